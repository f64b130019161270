"""The stores merge the corridor's snapshot once every yard's partial is in, whoever wrote them.

Batches of yard partials (`corridor.store_contract.KpiPartial`) committed as two workers would,
one yard by one worker and two by another: no corridor snapshot while a yard is missing, then
the one `corridor.kpis.merge` gives, written once however often the last batch is committed;
on SQLite and PostgreSQL (the SQL store) and in memory.
"""

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from api.store import tables as m
from api.store.sql_store import SqlStore
from api.store.tables import table_of
from corridor.kpis.merge import merge
from corridor.kpis.partials import yard_partials
from corridor.scenario import load_scenario
from corridor.store_contract import KpiPartial, TwinBatch
from streams.live.memory_store import MemoryStore
from tests.api_fixtures import T0
from tests.test_kpi_merge import run

YARDS = list(load_scenario(None).stations)


def partials(window: str = "24h") -> list[KpiPartial]:
    parts = yard_partials(run(3, 1), start=0.0, end=1440.0, stations=load_scenario(None).stations)
    as_of = T0 + timedelta(days=1)
    return [KpiPartial(yard, window, as_of, parts[yard]) for yard in YARDS]


def expected() -> Any:
    return json.loads(json.dumps(merge([part.partial for part in partials()])))


def corridor_rows(store: SqlStore) -> list[Any]:
    table = table_of(m.KpiSnapshot)
    query = select(table.c.window, table.c.kpis).where(table.c.scope == "corridor")
    with store.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(query)]


def test_the_sql_store_merges_the_corridor_once_every_yard_is_in(store: SqlStore) -> None:
    first, *others = partials()
    store.commit(TwinBatch("a", {}, partials=[first], yards=YARDS))
    assert corridor_rows(store) == []
    store.commit(TwinBatch("b", {}, partials=others, yards=YARDS))
    assert corridor_rows(store) == [("24h", expected())]
    store.commit(TwinBatch("b", {}, partials=others, yards=YARDS))  # a race, or a replay
    assert corridor_rows(store) == [("24h", expected())]


def test_the_memory_store_merges_the_same_corridor() -> None:
    store = MemoryStore()
    first, *others = partials()
    store.commit(TwinBatch("a", {}, partials=others, yards=YARDS))
    assert not store.snapshots
    store.commit(TwinBatch("b", {}, partials=[first], yards=YARDS))
    [(key, snapshot)] = store.snapshots.items()
    assert key[0] == "corridor"
    assert json.loads(json.dumps(snapshot.kpis)) == expected()


def test_partials_of_another_scenario_yard_list_complete_nothing(store: SqlStore) -> None:
    store.commit(TwinBatch("a", {}, partials=partials(), yards=[*YARDS, "fourth"]))
    assert corridor_rows(store) == []

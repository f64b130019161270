"""The store's JSON columns are written by msgspec (`api.store.json_values.json_text`), and what
a live snapshot stores reads back as it read back when the standard library wrote it.

On a twin fed a generated day's first 300 events: the KPI figures and partials that
`kpi_outputs` makes (empty figures among them, None or NaN: windows with no departures yet) are
committed to SQLite and PostgreSQL and read back
equal to `json.loads(json.dumps(json_data(value)))`, the standard library's round trip; the text
in the column is `json_text`'s, so the engine's serializer is the one in use.
"""

import json
import math
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from api.store import readers
from api.store import tables as m
from api.store.json_values import json_data, json_text
from api.store.sql_store import SqlStore
from api.store.tables import table_of
from corridor.store_contract import KpiPartial, KpiSnapshot, TwinBatch
from streams.live.reorder import to_micros
from streams.live.snapshots import kpi_outputs
from streams.live.twin import LiveTwin
from tests.broker_fixtures import SEED, generated_day, stations


@pytest.fixture(scope="module")
def outputs() -> tuple[list[KpiSnapshot], list[KpiPartial]]:
    events = generated_day(days=1)[:300]
    twin = LiveTwin(stations(), SEED)
    for event in events:
        twin.admit(event, b"")
    twin.advance(to_micros(events[-1].ts))
    assert twin.watermark is not None
    return kpi_outputs(twin, twin.watermark, datetime.now(UTC))


def _has_empty_figure(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_empty_figure(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(_has_empty_figure(item) for item in value)
    return value is None or (isinstance(value, float) and math.isnan(value))


def _stdlib_round_trip(value: Any) -> Any:
    return json.loads(json.dumps(json_data(value)))


def test_json_text_parses_as_the_standard_librarys_text(
    outputs: tuple[list[KpiSnapshot], list[KpiPartial]],
) -> None:
    snapshots, partials = outputs
    values = [s.kpis for s in snapshots] + [p.partial for p in partials]
    assert any(_has_empty_figure(value) for value in values), "empty figures must be exercised"
    for value in values:
        plain = json_data(value)
        assert json.loads(json_text(plain)) == json.loads(json.dumps(plain))


def test_json_text_writes_non_finite_as_null_and_numpy_as_python() -> None:
    given = {"nan": float("nan"), "inf": [float("inf")], "f": np.float64(0.1), "i": np.int64(3)}
    assert json.loads(json_text(given)) == {"nan": None, "inf": [None], "f": 0.1, "i": 3}
    assert json.loads(json_text({"é": "数"})) == {"é": "数"}
    with pytest.raises(TypeError):
        json_text({"what": object()})


def test_stored_snapshots_and_partials_read_back_equal(
    store: SqlStore, outputs: tuple[list[KpiSnapshot], list[KpiPartial]]
) -> None:
    snapshots, partials = outputs
    batch = TwinBatch("json-columns", offsets={})
    batch.snapshots.extend(snapshots)
    batch.partials.extend(partials)
    store.commit(batch)
    for snapshot in snapshots:
        row = readers.latest_snapshot(store.engine, scope=snapshot.scope, window=snapshot.window)
        assert row is not None
        assert row.kpis == _stdlib_round_trip(snapshot.kpis), (snapshot.scope, snapshot.window)
    table = table_of(m.KpiPartial)
    with store.engine.connect() as connection:
        stored = {
            (row.yard, row.window): row.partial
            for row in connection.execute(select(table.c.yard, table.c.window, table.c.partial))
        }
    assert stored == {(p.yard, p.window): _stdlib_round_trip(p.partial) for p in partials}


def test_the_engine_writes_json_text(store: SqlStore) -> None:
    if store.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL keeps its own text of a JSON value")
    state = {"yard": "tuanjiecun", "figures": [1.5, None, 2]}
    table = table_of(m.YardState)
    with store.engine.begin() as connection:
        connection.execute(
            table.insert().values(
                yard="x", clock=datetime.now(UTC), state=state, updated_at=datetime.now(UTC)
            )
        )
        raw = connection.exec_driver_sql("SELECT state FROM yard_states").scalar_one()
    assert raw == json_text(state)

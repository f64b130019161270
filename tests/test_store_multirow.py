"""SQLite's multi-row upserts store exactly what one statement step per row stored.

`api.store.upsert` sends a batch's rows to SQLite as multi-row `INSERT ... VALUES (...), ...`
statements of `ROWS_PER_STATEMENT` rows (fewer GIL hand-overs in the commit thread). Here
the same rows, of every kind a record column holds (NaN, None, signed zeros, tiny and huge
floats, bools, unicode, repeated keys: a fixed-seed mix), go through both ways, with chunks
small enough that a batch spans several statements and a shorter last one, and the two
databases' dumps must be the same, rowid order included.
"""

import math
import random
import sqlite3
from pathlib import Path

import pytest

from api.store import upsert
from api.store.record_rows import PERSISTED_RECORDS, persisted_rows
from api.store.sql_store import SqlStore
from stations.records import BoxVisit

SEED = 14
FLOATS = [math.nan, -0.0, 0.0, 5e-324, 1.7976931348623157e308, 0.1 + 0.2, 1e-300, 12345.678]
NOT_NAN = [*FLOATS[1:], 1.5]  # an entry time (NOT NULL)


def box_visits(count: int, rng: random.Random) -> list[BoxVisit]:
    """Box visits with awkward values, a third of them repeating an earlier key."""
    made: list[BoxVisit] = []
    for index in range(count):

        def value() -> float:
            return rng.choice(FLOATS) if rng.random() < 0.3 else rng.uniform(-1e6, 1e6)

        earlier = made[rng.randrange(len(made))] if made and rng.random() < 0.3 else None
        yard, container, entered = (
            (earlier.yard, earlier.container_id, earlier.entered)
            if earlier is not None
            else (rng.choice(["CQ-TUANJIECUN", "yärd-β"]), f"BOX{index:07d}", rng.choice(NOT_NAN))
        )
        made.append(
            BoxVisit(
                yard=yard, container_id=container, direction=rng.choice(["import", "export"]),
                teu=rng.choice([1, 2]), reefer=rng.random() < 0.5, entered=entered,
                stacked=value(), left=value(), train_id=f"train-{rng.randrange(9)}",
                inspected=rng.random() < 0.5, plug_wait_min=value(), inspection_start=value(),
                cleared=value(), loading_start=value(),
            )
        )  # fmt: skip
    return made


def stored(path: Path, batches: list[list[BoxVisit]]) -> list[str]:
    """The dump of a fresh store after upserting each batch of box visits in a transaction."""
    store = SqlStore.open(f"sqlite:///{path}")
    table, fields, key = PERSISTED_RECORDS["box_visits"]
    for batch in batches:
        rows = persisted_rows("box_visits", list(batch), nan_binds_null=True)
        with store.engine.begin() as connection:
            upsert.upsert_values(connection, table, fields, rows, key)
    store.close()
    with sqlite3.connect(path) as connection:
        return list(connection.iterdump())


def test_multirow_statements_store_what_row_by_row_steps_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(SEED)
    batches = [box_visits(count, rng) for count in (1, 37, 300, 64)]
    monkeypatch.setattr(upsert, "ROWS_PER_STATEMENT", 16)  # several statements a batch
    multirow = stored(tmp_path / "multirow.db", batches)
    monkeypatch.setattr(upsert, "_rows_of", lambda sql, width: None)  # one step per row
    upsert._PREPARED.clear()
    try:
        row_by_row = stored(tmp_path / "row_by_row.db", batches)
    finally:
        upsert._PREPARED.clear()
    assert len([line for line in multirow if line.startswith('INSERT INTO "box_visits"')]) > 100
    assert multirow == row_by_row


def test_the_one_row_statement_is_split_around_its_row() -> None:
    sql = "INSERT INTO t (a, b) VALUES (?, ?) ON CONFLICT (a) DO UPDATE SET b = excluded.b"
    assert upsert._rows_of(sql, 2) == (
        "INSERT INTO t (a, b) VALUES ",
        "(?, ?)",
        " ON CONFLICT (a) DO UPDATE SET b = excluded.b",
    )
    with pytest.raises(ValueError, match="one-row INSERT"):
        upsert._rows_of(sql, 3)

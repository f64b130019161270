"""The record rows a store commit writes: which records are kept, in which table, under which
natural key, and a batch's rows made ready for `executemany` (NaN, a time that has not happened
yet, as NULL). Apart from `api.store.sql_store` because the commit's checks are C calls over
columns (branch `commit`, `docs/performance.md`), a concept of its own.
"""

import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Float, Table
from sqlmodel import SQLModel

from api.store import tables as m
from api.store.tables import table_of
from stations import records

PersistedRecord = tuple[Table, tuple[str, ...], tuple[str, ...]]
"""A kept record's SQL table, its record's fields (the columns, in order) and natural key."""


def _kept(model: type[SQLModel], record: type[tuple[Any, ...]], *key: str) -> PersistedRecord:
    """A record kept in `model`'s table, its named tuple's fields as the columns, under `key`."""
    return table_of(model), record._fields, key  # type: ignore[attr-defined]


PERSISTED_RECORDS: dict[str, PersistedRecord] = {
    "truck_visits": _kept(m.TruckVisit, records.TruckVisit, "yard", "truck_id", "dispatched"),
    "box_visits": _kept(m.BoxVisit, records.BoxVisit, "yard", "container_id", "entered"),
    "train_visits": _kept(m.TrainVisit, records.TrainVisit, "yard", "train_id", "direction"),
    "observations": _kept(m.Observation, records.Observation, "yard", "subject_id", "milestone"),
    "reefer_excursions": _kept(
        m.ReeferExcursion, records.ReeferExcursion, "yard", "container_id", "kind", "start"
    ),
}
"""Record table -> (SQL table, record fields, natural key)."""

NOT_PERSISTED = frozenset({"lifts", "levels", "reefer_readings"})
"""Records the store does not keep: high-volume, and rebuilt exactly by replaying the archive."""


def persisted_rows(
    name: str, rows: list[tuple[Any, ...]], *, nan_binds_null: bool
) -> Sequence[tuple[Any, ...]]:
    """The rows as values in the record's field order, NaN (not happened yet) as NULL.

    `nan_binds_null`: the driver stores a NaN as NULL itself (SQLite), so only the key's
    columns are rewritten (a NaN there must compare equal to another, as NULL does, when the
    rows are reduced to one per key). The checks are C calls mapped over the batch, and a
    column without NaN is left as it is: this runs in the store's commit thread, which holds
    the GIL through its Python code (`api.store.upsert`).
    """
    if name in NOT_PERSISTED:
        return []
    if name not in PERSISTED_RECORDS:
        known = ", ".join(sorted([*PERSISTED_RECORDS, *NOT_PERSISTED]))
        raise ValueError(f"records: unknown table {name!r}; known: {known}")
    table, fields, key = PERSISTED_RECORDS[name]
    if not rows:
        return []
    if set(map(len, rows)) != {len(fields)}:
        for index, row in enumerate(rows):
            if len(row) != len(fields):
                raise ValueError(
                    f"records.{name}[{index}]: {len(row)} values for {len(fields)} fields"
                )
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True))
    changed = False
    for index, field in enumerate(fields):
        if not isinstance(table.c[field].type, Float):
            continue
        if nan_binds_null and field not in key:
            continue
        if _has_nan(columns[index]):
            columns[index] = tuple(map(_finite, columns[index]))
            changed = True
    return list(zip(*columns, strict=True)) if changed else rows


def _has_nan(column: Sequence[Any]) -> bool:
    """Whether any value is a NaN: `math.isnan` mapped in C, value by value if some value is
    not a number (the column's bind processor judges those)."""
    try:
        return any(map(math.isnan, column))
    except (TypeError, OverflowError):
        return any(isinstance(value, float) and math.isnan(value) for value in column)


def _finite(value: Any) -> Any:
    """NaN (a time that has not happened) is stored as NULL."""
    return None if isinstance(value, float) and math.isnan(value) else value

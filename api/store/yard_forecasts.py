"""The worker's forecasts in yard parts (`yard_forecasts`), merged into `forecasts`.

A consumer group's members each hold some yards, so each forecasts its own
(`streams.forecast_schedule`) and stores one row per yard: the moment the forecast starts from
(`now`, on the forecast grid every member shares), the part itself (every replication's figures,
`corridor.forecast.yard_parts`) and the member's claim. In the same transaction:

- **fenced**: the claim must still own every partition it claimed (`api.store.fencing.hold`),
  so a member whose yards were handed over (revoked, or its session lost) cannot store a
  forecast computed before the hand-over over the new owner's: it is refused (`FencedError`)
  and the worker drops it;
- **merged**: the newest part of each yard at this `now` (of the same horizon and replications)
  is taken, and once every yard of the corridor has one, their merge (`merge_parts`: the
  forecast one process holding every yard computes, to the byte) replaces the `forecasts` row
  of that `now`, which the API serves. Whichever member stores the last yard's part merges, and
  a part stored again later (a yard's new owner forecasting the same moment) merges again: the
  newest part of a yard supersedes. On PostgreSQL the table is locked for the write (share row
  exclusive: puts serialise, reads go on), so two members storing the last two parts at once
  still merge; SQLite serialises writers itself.

A single worker stores every yard's part at once, and merges at once. Only the parts of the
newest `keep` moments stay.
"""

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, String, Table, Text, delete, select, text
from sqlmodel import Field

from api.store import fencing, forecasts
from corridor.forecast.yard_parts import PartsOwner, merge_parts


class YardForecastRow(forecasts.ForecastColumns, table=True):
    """One yard's part of a forecast from event time `now`."""

    __tablename__ = "yard_forecasts"

    id: int | None = Field(default=None, primary_key=True)
    yard: str = Field(sa_type=String, index=True)
    claim: str | None = Field(default=None, sa_type=String)  # the member's (None: no group)
    data: str = Field(sa_type=Text)  # the part as JSON


@dataclass(frozen=True, slots=True)
class StoredPart(forecasts.ForecastStamp):
    """A stored yard part and what it came with."""

    yard: str
    part: list[dict[str, Any]]


def _table() -> Table:
    table = YardForecastRow.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


def put(engine: Engine, result: dict[str, Any], keep: int, owner: PartsOwner) -> bool:
    """Store a worker's parts (`run_live_parts`' result), fenced by the owner's claim; merge
    the forecast of `now` when every yard of its corridor has a part. Returns whether it
    merged."""
    table, stamp = _table(), forecasts.ForecastStamp.of(result)
    rows = [
        dict(stamp.values(), yard=yard, claim=owner.claim, data=json.dumps(part, allow_nan=False))
        for yard, part in sorted(result["parts"].items())
    ]
    with engine.begin() as connection:
        fencing.hold(connection, owner.group, owner.claim)  # first: it takes the locks
        if connection.dialect.name == "postgresql":
            connection.execute(text("LOCK TABLE yard_forecasts IN SHARE ROW EXCLUSIVE MODE"))
        if rows:
            connection.execute(table.insert(), rows)
        corridor = sorted(set(owner.corridor))
        merged = _merge(connection, stamp, corridor, keep)
        _prune(connection, keep)
    return merged


def _merge(
    connection: Connection, stamp: forecasts.ForecastStamp, corridor: list[str], keep: int
) -> bool:
    """Merge the newest part of every corridor yard at `now` (of the same horizon and
    replications) into `forecasts`, if all are in."""
    table = _table()
    query = (
        select(table.c.yard, table.c.computed_at, table.c.data)
        .where(
            (table.c.now == stamp.now)
            & (table.c.horizon_h == stamp.horizon_h)
            & (table.c.replications == stamp.replications)
        )
        .order_by(table.c.id)
    )
    newest = {yard: (at, data) for yard, at, data in connection.execute(query)}  # later wins
    if not corridor or any(yard not in newest for yard in corridor):
        return False
    parts = {yard: json.loads(newest[yard][1]) for yard in corridor}
    merged = merge_parts(stamp.now, stamp.horizon_h, parts).as_dict()
    computed_at = max(newest[yard][0] for yard in corridor)
    forecasts.insert(
        connection, {**merged, "computed_at": computed_at.isoformat()}, keep, replace=True
    )
    return True


def _prune(connection: Connection, keep: int) -> None:
    """Keep the parts of the newest `keep` moments."""
    table = _table()
    moments = select(table.c.now).distinct().order_by(table.c.now.desc()).limit(max(1, keep))
    kept = [row[0] for row in connection.execute(moments)]
    if kept:
        connection.execute(delete(table).where(table.c.now < min(kept)))


def newest(engine: Engine, yard: str) -> StoredPart | None:
    """The yard's newest part (by its `now`, then by when it was stored)."""
    table = _table()
    query = (
        select(*forecasts.stamp_columns(table), table.c.yard, table.c.data)
        .where(table.c.yard == yard)
        .order_by(table.c.now.desc(), table.c.id.desc())
        .limit(1)
    )
    with engine.connect() as connection:
        row = connection.execute(query).first()
    if row is None:
        return None
    values = dict(row._mapping)  # the stamp's and the yard, by name
    data = values.pop("data")
    return StoredPart(**values, part=json.loads(data))

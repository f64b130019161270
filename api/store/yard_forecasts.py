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
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, String, Table, Text, delete, select, text
from sqlmodel import Field, SQLModel

from api.store import fencing, forecasts
from api.store.db import UtcDateTime
from corridor.forecast.yard_parts import PartsOwner, merge_parts


class YardForecastRow(SQLModel, table=True):
    """One yard's part of a forecast from event time `now`."""

    __tablename__ = "yard_forecasts"

    id: int | None = Field(default=None, primary_key=True)
    now: datetime = Field(sa_type=UtcDateTime, index=True)  # event time it starts from
    yard: str = Field(sa_type=String, index=True)
    computed_at: datetime = Field(sa_type=UtcDateTime)  # wall clock
    horizon_h: int
    replications: int
    claim: str | None = Field(default=None, sa_type=String)  # the member's (None: no group)
    data: str = Field(sa_type=Text)  # the part as JSON


@dataclass(frozen=True, slots=True)
class StoredPart:
    """A stored yard part and what it came with."""

    now: datetime
    yard: str
    computed_at: datetime
    horizon_h: int
    replications: int
    part: list[dict[str, Any]]


def _table() -> Table:
    table = YardForecastRow.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


def put(engine: Engine, result: dict[str, Any], keep: int, owner: PartsOwner) -> bool:
    """Store a worker's parts (`run_live_parts`' result), fenced by the owner's claim; merge
    the forecast of `now` when every yard of its corridor has a part. Returns whether it
    merged."""
    table = _table()
    now = datetime.fromisoformat(result["now"])
    horizon, replications = int(result["horizon_h"]), int(result["replications"])
    computed_at = datetime.fromisoformat(result.get("computed_at") or datetime.now(UTC).isoformat())
    rows = [
        {
            "now": now,
            "yard": yard,
            "computed_at": computed_at,
            "horizon_h": horizon,
            "replications": replications,
            "claim": owner.claim,
            "data": json.dumps(part, allow_nan=False),
        }
        for yard, part in sorted(result["parts"].items())
    ]
    with engine.begin() as connection:
        fencing.hold(connection, owner.group, owner.claim)  # first: it takes the locks
        if connection.dialect.name == "postgresql":
            connection.execute(text("LOCK TABLE yard_forecasts IN SHARE ROW EXCLUSIVE MODE"))
        if rows:
            connection.execute(table.insert(), rows)
        corridor = sorted(set(owner.corridor))
        merged = _merge(connection, now, horizon, replications, corridor, keep)
        _prune(connection, keep)
    return merged


def _merge(
    connection: Connection,
    now: datetime,
    horizon: int,
    replications: int,
    corridor: list[str],
    keep: int,
) -> bool:
    """Merge the newest part of every corridor yard at `now` into `forecasts`, if all are in."""
    table = _table()
    query = (
        select(table.c.yard, table.c.computed_at, table.c.data)
        .where(
            (table.c.now == now)
            & (table.c.horizon_h == horizon)
            & (table.c.replications == replications)
        )
        .order_by(table.c.id)
    )
    newest = {yard: (at, data) for yard, at, data in connection.execute(query)}  # later wins
    if not corridor or any(yard not in newest for yard in corridor):
        return False
    parts = {yard: json.loads(newest[yard][1]) for yard in corridor}
    merged = merge_parts(now, horizon, parts).as_dict()
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
        select(
            table.c.now,
            table.c.yard,
            table.c.computed_at,
            table.c.horizon_h,
            table.c.replications,
            table.c.data,
        )
        .where(table.c.yard == yard)
        .order_by(table.c.now.desc(), table.c.id.desc())
        .limit(1)
    )
    with engine.connect() as connection:
        row = connection.execute(query).first()
    if row is None:
        return None
    now, sid, computed_at, horizon_h, replications, data = row
    return StoredPart(now, sid, computed_at, horizon_h, replications, json.loads(data))

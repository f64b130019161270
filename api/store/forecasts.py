"""The worker's forecasts in the store (`forecasts`): the newest serves the API.

The worker computes a forecast from its live twin now and then (`streams.forecast_schedule`)
and stores it here as one row: the event time it starts from (`now`), when it was computed
(wall clock), its horizon and replications, and the forecast itself as JSON
(`corridor.forecast.bands.Forecast.as_dict`). Only the newest `keep` rows stay. The API reads
the newest (`latest`) and serves any horizon up to the stored one (`docs/forecast.md`).
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, Text, delete, select
from sqlmodel import Field, SQLModel

from api.store.db import UtcDateTime


class ForecastRow(SQLModel, table=True):
    """One forecast of every yard and the corridor, from event time `now`."""

    __tablename__ = "forecasts"

    id: int | None = Field(default=None, primary_key=True)
    now: datetime = Field(sa_type=UtcDateTime, index=True)  # event time it starts from
    computed_at: datetime = Field(sa_type=UtcDateTime)  # wall clock
    horizon_h: int
    replications: int
    data: str = Field(sa_type=Text)  # the forecast as JSON


@dataclass(frozen=True, slots=True)
class StoredForecast:
    """A stored forecast: its plain values (`Forecast.as_dict` and `computed_at`)."""

    now: datetime
    computed_at: datetime
    horizon_h: int
    replications: int
    result: dict[str, Any]


def _table() -> Table:
    table = ForecastRow.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


def put(engine: Engine, result: dict[str, Any], keep: int) -> None:
    """Store a forecast (`Forecast.as_dict` plus `computed_at`); keep the newest `keep` rows."""
    with engine.begin() as connection:
        insert(connection, result, keep)


def insert(
    connection: Connection, result: dict[str, Any], keep: int, *, replace: bool = False
) -> None:
    """`put` in the caller's transaction; `replace`: first remove the rows of the same `now`
    (a forecast merged again from newer yard parts, `api.store.yard_forecasts`)."""
    table = _table()
    computed_at = result.get("computed_at")
    now = datetime.fromisoformat(result["now"])
    if replace:
        connection.execute(delete(table).where(table.c.now == now))
    connection.execute(
        table.insert().values(
            now=now,
            computed_at=(datetime.fromisoformat(computed_at) if computed_at else datetime.now(UTC)),
            horizon_h=int(result["horizon_h"]),
            replications=int(result["replications"]),
            data=json.dumps(result, allow_nan=False),
        )
    )
    kept = select(table.c.id).order_by(table.c.id.desc()).limit(max(1, keep))
    connection.execute(delete(table).where(table.c.id.not_in(kept.scalar_subquery())))


def latest(engine: Engine) -> StoredForecast | None:
    """The newest stored forecast (by its event time, then by when it was stored)."""
    table = _table()
    query = select(
        table.c.now, table.c.computed_at, table.c.horizon_h, table.c.replications, table.c.data
    ).order_by(table.c.now.desc(), table.c.id.desc())
    with engine.connect() as connection:
        row = connection.execute(query.limit(1)).first()
    if row is None:
        return None
    now, computed_at, horizon_h, replications, data = row
    return StoredForecast(now, computed_at, horizon_h, replications, json.loads(data))

"""The worker's forecasts in the store (`forecasts`): the newest serves the API.

The worker computes a forecast from its live twin now and then (`streams.forecast_schedule`)
and stores it here as one row: the event time it starts from (`now`), when it was computed
(wall clock), its horizon and replications, and the forecast itself as JSON
(`corridor.forecast.bands.Forecast.as_dict`). Only the newest `keep` rows stay. The API reads
the newest (`latest`) and serves any horizon up to the stored one (`docs/forecast.md`).
"""

import json
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Connection, Engine, Table, Text, delete, select
from sqlmodel import Field, SQLModel

from api.store.db import UtcDateTime


class ForecastColumns(SQLModel):
    """The columns every stored forecast has, the corridor's here and each yard's part
    (`api.store.yard_forecasts`): its `ForecastStamp`."""

    now: datetime = Field(sa_type=UtcDateTime, index=True)  # event time it starts from
    computed_at: datetime = Field(sa_type=UtcDateTime)  # wall clock
    horizon_h: int
    replications: int


class ForecastRow(ForecastColumns, table=True):
    """One forecast of every yard and the corridor, from event time `now`."""

    __tablename__ = "forecasts"

    id: int | None = Field(default=None, primary_key=True)
    data: str = Field(sa_type=Text)  # the forecast as JSON


@dataclass(frozen=True, slots=True)
class ForecastStamp:
    """What a forecast is stored with (`ForecastColumns`): the event time it starts from, when
    it was computed, its horizon and replications."""

    now: datetime
    computed_at: datetime  # wall clock
    horizon_h: int
    replications: int

    @classmethod
    def of(cls, result: dict[str, Any]) -> "ForecastStamp":
        """A forecast's (`Forecast.as_dict`, or a worker's yard parts), `computed_at` the wall
        clock now where it has none."""
        computed_at = result.get("computed_at")
        return cls(
            datetime.fromisoformat(result["now"]),
            datetime.fromisoformat(computed_at) if computed_at else datetime.now(UTC),
            int(result["horizon_h"]),
            int(result["replications"]),
        )

    def values(self) -> dict[str, Any]:
        """Its columns' values, by name."""
        return {field.name: getattr(self, field.name) for field in fields(ForecastStamp)}


def stamp_columns(table: Table) -> list[Column[Any]]:
    """`table`'s `ForecastColumns`, in `ForecastStamp`'s order (to select one)."""
    return [table.c[field.name] for field in fields(ForecastStamp)]


@dataclass(frozen=True, slots=True)
class StoredForecast(ForecastStamp):
    """A stored forecast: its stamp and its plain values (`Forecast.as_dict` and
    `computed_at`)."""

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
    table, stamp = _table(), ForecastStamp.of(result)
    if replace:
        connection.execute(delete(table).where(table.c.now == stamp.now))
    data = json.dumps(result, allow_nan=False)
    connection.execute(table.insert().values(**stamp.values(), data=data))
    kept = select(table.c.id).order_by(table.c.id.desc()).limit(max(1, keep))
    connection.execute(delete(table).where(table.c.id.not_in(kept.scalar_subquery())))


def latest(engine: Engine) -> StoredForecast | None:
    """The newest stored forecast (by its event time, then by when it was stored)."""
    table = _table()
    query = select(*stamp_columns(table), table.c.data)
    query = query.order_by(table.c.now.desc(), table.c.id.desc())
    with engine.connect() as connection:
        row = connection.execute(query.limit(1)).first()
    if row is None:
        return None
    values = dict(row._mapping)  # the stamp's, by name
    data = values.pop("data")
    return StoredForecast(**values, result=json.loads(data))

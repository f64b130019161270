"""The KPI tables: snapshots (per scope, window, as_of) and the yards' partials the corridor's
snapshot is merged from (`corridor.kpis.merge`). Re-exported by `api.store.tables`."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.store.db import UtcDateTime


class KpiSnapshotBase(SQLModel):
    """KPIs of one scope (a yard id or "corridor") over a rolling window ending at `as_of`."""

    scope: str = Field(max_length=32)
    window: str = Field(max_length=8)
    as_of: datetime = Field(sa_type=UtcDateTime)  # event time the KPIs reflect (window end)
    computed_at: datetime = Field(sa_type=UtcDateTime)  # wall clock of the computation


class KpiSnapshot(KpiSnapshotBase, table=True):
    """A stored snapshot; `id` grows with each new key, so it doubles as the stream cursor."""

    __tablename__ = "kpi_snapshots"
    __table_args__ = (UniqueConstraint("scope", "window", "as_of", name="uq_kpi_snapshots_key"),)

    id: int | None = Field(default=None, primary_key=True)
    kpis: dict[str, Any] = Field(sa_type=JSON)


class KpiPartial(SQLModel, table=True):
    """One yard's partial KPIs over a window ending at `as_of` (`corridor.kpis.partials`):
    the corridor's snapshot at (window, as_of) is merged from every yard's."""

    __tablename__ = "kpi_partials"
    __table_args__ = (UniqueConstraint("yard", "window", "as_of", name="uq_kpi_partials_key"),)

    id: int | None = Field(default=None, primary_key=True)
    yard: str = Field(max_length=32)
    window: str = Field(max_length=8)
    as_of: datetime = Field(sa_type=UtcDateTime)
    partial: dict[str, Any] = Field(sa_type=JSON)

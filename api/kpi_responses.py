"""The KPI block of `kpis.json` as typed response models (one yard, or the corridor).

The shape is fixed by the brief and produced by `corridor.kpis.report`; the worker's snapshots are
validated against it when they are committed, so a reader never meets a malformed snapshot.
Every figure may be null: a window with no traffic has no mean, and the shape stays the same.
"""

from pydantic import BaseModel, ConfigDict, Field

Figure = int | float | None
"""A number as the report writes it (counts stay integers); null when it does not exist."""


class _Shape(BaseModel):
    model_config = ConfigDict(frozen=True)


class Tally(_Shape):
    """A per-thing duration summarised (mean and the percentiles a corridor is judged by)."""

    mean: Figure
    p50: Figure
    p90: Figure
    p95: Figure
    p99: Figure


class DwellSummary(Tally):
    """Dwell in hours, with the share of boxes within the one-day (24 h) target."""

    share_within_24h: Figure


class DwellBreakdown(_Shape):
    """Dwell of export, import and reefer boxes separately."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    export: DwellSummary
    import_: DwellSummary = Field(alias="import")
    reefer: DwellSummary


class Dwell(DwellSummary):
    """Box dwell (hours in the yard, entering to leaving), overall and by kind of box."""

    by: DwellBreakdown


class QueueLength(_Shape):
    """Gate queue length: time-weighted mean and maximum over the window."""

    mean: Figure
    max: Figure


class Throughput(_Shape):
    """TEU in and out of the yard, lifts made, and TEU per day over the window."""

    teu_in: Figure
    teu_out: Figure
    lifts: Figure
    teu_per_day: Figure


class Utilisation(_Shape):
    """Time-weighted share of capacity in use: gate lanes, handling equipment, plugs, stack."""

    gate: Figure
    handling: Figure
    plugs: Figure
    stack: Figure


class ReeferKpis(_Shape):
    """Reefer monitoring: readings received, excursions, their minutes, longest time unpowered."""

    readings: Figure
    excursions: Figure
    excursion_minutes: Figure
    max_off_power_min: Figure


class Kpis(_Shape):
    """The KPIs of one yard or of the corridor over one window (kpis.json's KPIS block)."""

    trucks: Figure
    truck_turn_min: Tally
    gate_wait_min: Tally
    gate_queue_len: QueueLength
    dwell_h: Dwell
    throughput: Throughput
    utilisation: Utilisation
    reefer: ReeferKpis

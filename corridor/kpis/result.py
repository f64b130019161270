"""The KPI result type: the shape of `kpis.json`, defined here once for every reader.

One yard's (or the corridor's) KPIs over one window are a `Kpis`; a whole report is a
`KpiReport` (`run` block, `yards`, `corridor`). The KPI code (`corridor.kpis.report`) builds
them, the worker's KPI snapshots carry them, the SQL store validates them before it commits a
snapshot, the API's response schema is generated from them, and `docs/kpis.md` documents every
field (`tests/test_kpi_result.py` checks the last three).

They are `TypedDict`s, not msgspec `Struct`s: a report is JSON data all the way (written with
`json.dumps`, stored in a JSON column, sent as a Kafka message and as SSE), so a typed dict
costs nothing at run time and changes no byte of the output, while mypy checks every place that
builds or reads one, and pydantic validates and documents a `TypedDict` directly (a `Struct`
would need a converted copy of every report, and a second, hand-kept schema for the API).
`typing_extensions.TypedDict` because pydantic refuses `typing.TypedDict` before Python 3.12.

A figure that does not exist (no truck left in the window, so no mean) is None (JSON null);
counts are integers, every other figure a float with 6 significant digits
(`corridor.kpis.stats.figure`).
"""

from typing import Any

from typing_extensions import TypedDict

Figure = float | None
"""A measured number as the report writes it; None when it does not exist."""


class Tally(TypedDict):
    """A per-thing duration summarised: its mean and the percentiles a corridor is judged by."""

    mean: Figure
    p50: Figure
    p90: Figure
    p95: Figure
    p99: Figure


class DwellSummary(Tally):
    """Dwell in hours, with the share of boxes within the one-day (24 h) target."""

    share_within_24h: Figure


DwellBreakdown = TypedDict(
    "DwellBreakdown",
    {"export": DwellSummary, "import": DwellSummary, "reefer": DwellSummary},
)
"""Dwell of export, import and reefer boxes separately (`import` is a keyword, hence the form)."""


class Dwell(DwellSummary):
    """Box dwell (hours in the yard, entering to leaving), overall and by kind of box."""

    by: DwellBreakdown


class QueueLength(TypedDict):
    """Gate queue length in trucks: time-weighted mean and maximum over the window."""

    mean: Figure
    max: Figure


class Throughput(TypedDict):
    """TEU in and out of the yard, lifts made, and TEU per day over the window."""

    teu_in: int
    teu_out: int
    lifts: int
    teu_per_day: Figure


class Utilisation(TypedDict):
    """Time-weighted share of capacity in use: gate lanes, handling equipment, plugs, stack."""

    gate: Figure
    handling: Figure
    plugs: Figure
    stack: Figure


class ReeferKpis(TypedDict):
    """Reefer monitoring: readings received, excursions, their minutes, longest time unpowered."""

    readings: int
    excursions: int
    excursion_minutes: Figure
    max_off_power_min: Figure


class Kpis(TypedDict):
    """The KPIs of one yard or of the corridor over one window (kpis.json's KPIS block)."""

    trucks: int
    truck_turn_min: Tally
    gate_wait_min: Tally
    gate_queue_len: QueueLength
    dwell_h: Dwell
    throughput: Throughput
    utilisation: Utilisation
    reefer: ReeferKpis


class ScopedKpis(TypedDict):
    """The KPIs of every yard (by id, scenario order) and of the corridor as a whole."""

    yards: dict[str, Kpis]
    corridor: Kpis


class Period(TypedDict):
    """The window a report covers: RFC 3339 start and end, and its length in days."""

    start: str
    end: str
    days: Figure


class RunInfo(TypedDict):
    """What was run: the seed, the period, and the event counts as the caller gave them."""

    seed: int
    period: Period
    events: dict[str, Any]


class KpiReport(ScopedKpis):
    """The whole `kpis.json`."""

    run: RunInfo

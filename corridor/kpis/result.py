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


class AgeSummary(TypedDict):
    """How long the boxes in the yard have been there, hours: median, p90 and the oldest."""

    p50: Figure
    p90: Figure
    max: Figure


class InYard(TypedDict):
    """The boxes in the yard at the end of the window, those there over 24 h, and their age."""

    boxes: int
    over_24h: int
    age_h: AgeSummary


class DwellSummary(Tally):
    """Dwell in hours of the boxes that left, the share within the one-day (24 h) target
    counting every box that entered (Kaplan-Meier) and only those that left, and the boxes
    still in the yard."""

    share_within_24h: Figure
    share_within_24h_departed: Figure
    in_yard: InYard


DwellBreakdown = TypedDict(
    "DwellBreakdown",
    {"export": DwellSummary, "import": DwellSummary, "reefer": DwellSummary},
)
"""Dwell of export, import and reefer boxes separately (`import` is a keyword, hence the form)."""


class ExportStages(TypedDict):
    """One figure per stage of an export box's stay, in the order a box goes through them."""

    gate_to_stack: Figure
    waiting_for_inspection: Figure
    inspection: Figure
    waiting_for_train: Figure
    loading: Figure


class ImportStages(TypedDict):
    """One figure per stage of an import box's stay, in the order a box goes through them."""

    waiting_for_unloading: Figure
    waiting_for_pickup: Figure


DwellStages = TypedDict("DwellStages", {"export": ExportStages, "import": ImportStages})
"""A figure per stage, export and import (hours in `stages`, shares in `excess_share`)."""


class Bottleneck(TypedDict):
    """The stage holding the largest share of the excess hours (beyond 24 h), and that share."""

    stage: str | None
    share: Figure


NAMING_KEYS = frozenset({"stage"})
"""Keys of the KPI leaves that name something (`bottleneck.stage`) instead of measuring it: a
replicated report counts their names, and per-replication tables of figures leave them out."""


class Dwell(DwellSummary):
    """Box dwell (hours in the yard, entering to leaving), overall and by kind of box, and
    where the hours go: the mean hours per stage, the share of the excess hours of the boxes
    over 24 h each stage holds, and the stage that holds the most."""

    by: DwellBreakdown
    stages: DwellStages
    excess_share: DwellStages
    bottleneck: Bottleneck


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
    """Time-weighted share of capacity in use: smart gate lanes, the manual exception lanes,
    handling equipment, plugs, stack."""

    gate: Figure
    exception_lane: Figure
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


class ScenarioInfo(TypedDict):
    """The scenario run: its name and the sha256 of its effective station specs."""

    name: str
    digest: str


class InputInfo(TypedDict):
    """What the events came from (`log`, `generated`, `events`) and the sha256 that pins it."""

    kind: str
    digest: str


class RunInfo(TypedDict):
    """What was run: scenario, seed, input, the period, and the event counts as given."""

    scenario: ScenarioInfo
    seed: int
    input: InputInfo
    period: Period
    events: dict[str, Any]


class KpiReport(ScopedKpis):
    """The whole `kpis.json`."""

    run: RunInfo

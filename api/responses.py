"""Response models of the API that are not table families: yards, KPI views, health, errors.

Every model carries an example, so the OpenAPI document shows what a client will get. Times
are RFC 3339 with an offset (UTC, written `Z`), in and out.
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.kpi_responses import Kpis, kpis_json
from api.store.tables import (
    DeadLetterCountPublic,
    OverdueBoxPublic,
    ReeferStatusPublic,
    WorkerCommitPublic,
    YardStatePublic,
)
from corridor.kpis.result import DwellStages, DwellSummary, Tally

Window = Literal["1h", "shift", "24h", "7d"]
ReeferFilter = Literal["alarm", "excursion", "unplugged"]
ReeferOrder = Literal["container", "urgency"]
"""By container number, or most urgent first (least time to breach; never-breaching last)."""
Scope = Annotated[str, Field(min_length=1, max_length=64)]
"""A yard id (one per station file, listed by `GET /yards`) or `corridor`, the whole."""

_TALLY: Tally = {"mean": 31.2, "p50": 28.4, "p90": 47.0, "p95": 55.1, "p99": 78.9}
_DWELL: DwellSummary = {
    "mean": 20.5,
    "p50": 18.0,
    "p90": 33.0,
    "p95": 39.5,
    "p99": 52.0,
    "share_within_24h": 0.64,
    "share_within_24h_departed": 0.71,
    "in_yard": {"boxes": 640, "over_24h": 57, "age_h": {"p50": 9.5, "p90": 26.0, "max": 104.7}},
}
_STAGES: DwellStages = {
    "export": {
        "gate_to_stack": 0.3,
        "waiting_for_inspection": 0.1,
        "inspection": 0.2,
        "waiting_for_train": 4.6,
        "loading": 1.3,
    },
    "import": {"waiting_for_unloading": 1.8, "waiting_for_pickup": 20.2},
}
_EXCESS: DwellStages = {
    "export": {
        "gate_to_stack": 0.0,
        "waiting_for_inspection": 0.01,
        "inspection": 0.02,
        "waiting_for_train": 0.09,
        "loading": 0.03,
    },
    "import": {"waiting_for_unloading": 0.05, "waiting_for_pickup": 0.8},
}
KPIS_EXAMPLE: Kpis = {
    "trucks": 1184,
    "truck_turn_min": _TALLY,
    "gate_wait_min": {"mean": 1.2, "p50": 0.4, "p90": 3.1, "p95": 4.8, "p99": 9.6},
    "gate_queue_len": {"mean": 0.8, "max": 14},
    "dwell_h": {
        **_DWELL,
        "by": {"export": _DWELL, "import": _DWELL, "reefer": _DWELL},
        "stages": _STAGES,
        "excess_share": _EXCESS,
        "bottleneck": {"stage": "waiting_for_pickup", "share": 0.8},
    },
    "throughput": {"teu_in": 1620, "teu_out": 1588, "lifts": 2390, "teu_per_day": 1604.0},
    "utilisation": {
        "gate": 0.21,
        "exception_lane": 0.4,
        "handling": 0.48,
        "plugs": 0.62,
        "stack": 0.35,
    },
    "reefer": {
        "readings": 6912,
        "excursions": 3,
        "excursion_minutes": 95.0,
        "max_off_power_min": 41.0,
    },
}
_KPIS_JSON = kpis_json(KPIS_EXAMPLE)
_AS_OF = "2026-01-06T08:00:00Z"
_FRESHNESS: dict[str, Any] = {
    "checked_at": "2026-01-06T08:00:15Z",
    "last_snapshot_as_of": _AS_OF,
    "last_snapshot_computed_at": "2026-01-06T08:00:03Z",
    "age_s": 12.0,
    "stale_after_s": 1200.0,
    "live": True,
}


class ErrorMessage(BaseModel):
    """Why a request was refused."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"detail": "unknown yard 'chengdu'"}]}
    )

    detail: str


class Health(BaseModel):
    """The process is alive."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok"}]})

    status: Literal["ok"]


class DataFreshness(BaseModel):
    """How old the newest KPI snapshot is, and whether the data may be called live.

    `live` is true only while a worker is running (it committed within the worker stale bound)
    and the newest snapshot was computed at most `stale_after_s` ago (wall clock): the
    dashboard says "live" exactly then. Ages are measured on this server's clock at `checked_at`.
    """

    model_config = ConfigDict(json_schema_extra={"examples": [_FRESHNESS]})

    checked_at: datetime
    last_snapshot_as_of: datetime | None = Field(description="event time the snapshot reflects")
    last_snapshot_computed_at: datetime | None = Field(description="wall time it was computed")
    age_s: float | None = Field(description="seconds since it was computed, at `checked_at`")
    stale_after_s: float = Field(description="older than this, the data is stale")
    live: bool


class Readiness(BaseModel):
    """Whether the service can answer: the database, and the live workers' progress."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "ready",
                    "database": "ok",
                    "workers": [
                        {
                            "group": "corridor-twin",
                            "committed_at": "2026-01-06T08:00:03Z",
                            "last_event_time": _AS_OF,
                            "lag": 12,
                            "running": True,
                        }
                    ],
                    "freshness": _FRESHNESS,
                }
            ]
        }
    )

    status: Literal["ready", "unavailable"]
    database: str
    workers: list[WorkerCommitPublic] = Field(default_factory=list)
    freshness: DataFreshness | None = None  # null when the database does not answer


class Departure(BaseModel):
    """A daily departure in the station's timetable (local time)."""

    service: str
    departure: str
    destination: str
    capacity_teu: int
    cutoff_h: float


class Facilities(BaseModel):
    """What a yard has: lanes, equipment, ground slots, plugs, tracks and its timetable."""

    gate_lanes: int
    exception_lanes: int
    rmgs: int
    reach_stackers: int
    stack_capacity_teu: int
    reefer_plugs: int
    loading_tracks: int
    inspection_bays: int
    timetable: list[Departure]


class YardSummary(BaseModel):
    """A yard of the corridor: id, names, code and colour (its station file), and twin clock."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "tuanjiecun",
                    "name_zh": "团结村",
                    "name_en": "Tuanjiecun",
                    "code": "TJC",
                    "colour": "#2b6cb0",
                    "timezone": "+08:00",
                    "clock": _AS_OF,
                    "open_reefer_alarms": 2,
                }
            ]
        }
    )

    id: str
    name_zh: str
    name_en: str = Field(description="the name in pinyin")
    code: str = Field(description="the short code in the yard's truck, train and event ids")
    colour: str = Field(description="the yard's colour on the dashboard, #rrggbb")
    timezone: str
    clock: datetime | None = Field(description="the yard's twin clock; null before any data")
    open_reefer_alarms: int


class YardDetail(YardSummary):
    """A yard's facilities and, once the worker has committed it, its current state."""

    facilities: Facilities
    state: YardStatePublic | None


class KpiView(BaseModel):
    """The KPIs of a yard or the corridor over a rolling window ending at `as_of` (event time)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "scope": "tuanjiecun",
                    "window": "24h",
                    "as_of": _AS_OF,
                    "computed_at": "2026-01-06T08:00:02Z",
                    "kpis": _KPIS_JSON,
                }
            ]
        }
    )

    scope: str = Field(description='a yard id, or "corridor"')
    window: Window
    as_of: datetime = Field(description="the event time the KPIs reflect (the window's end)")
    computed_at: datetime = Field(description="when the worker computed them (wall clock)")
    kpis: Kpis


class HistoryPoint(BaseModel):
    """The last snapshot within one interval bucket."""

    bucket: datetime = Field(description="the bucket's start")
    as_of: datetime
    kpis: Kpis


class KpiHistory(BaseModel):
    """Snapshots of one window over a time range, one per interval, for charts."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "scope": "corridor",
                    "window": "1h",
                    "interval": "1h",
                    "from": "2026-01-05T08:00:00Z",
                    "to": _AS_OF,
                    "points": [
                        {"bucket": "2026-01-06T07:00:00Z", "as_of": _AS_OF, "kpis": _KPIS_JSON}
                    ],
                }
            ]
        },
        populate_by_name=True,
    )

    scope: str
    window: Window
    interval: str
    from_: datetime = Field(alias="from")
    to: datetime
    points: list[HistoryPoint]


class ReeferList(BaseModel):
    """Reefers of a yard with their latest reading."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "yard": "yuzui",
                    "status": "alarm",
                    "reefers": [
                        {
                            "yard": "yuzui",
                            "container_id": "CXRU1234565",
                            "setpoint_c": -18.0,
                            "supply_c": -14.2,
                            "return_c": -12.9,
                            "power": "on",
                            "alarms": ["AL27"],
                            "last_reading": _AS_OF,
                            "plugged": True,
                            "in_excursion": True,
                            "excursion_since": "2026-01-06T07:20:00Z",
                            "estimated_cargo_c": -17.6,
                            "minutes_to_breach": 0.0,
                            "breach_at": "2026-01-06T07:20:00Z",
                        }
                    ],
                    "order": "urgency",
                }
            ]
        }
    )

    yard: str
    status: ReeferFilter | None
    reefers: list[ReeferStatusPublic]
    order: ReeferOrder = "container"


class OverdueBoxList(BaseModel):
    """The boxes in a yard (or the corridor) at least `min_age_h` old now, oldest first."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "yard": "yuzui",
                    "min_age_h": 24.0,
                    "limit": 100,
                    "total": 1,
                    "by_stage": {"waiting_for_pickup": 1},
                    "boxes": [
                        {
                            "yard": "yuzui",
                            "container_id": "TGHU0000013",
                            "direction": "import",
                            "reefer": False,
                            "teu": 2,
                            "entered": "2026-01-04T22:10:00Z",
                            "as_of": _AS_OF,
                            "age_h": 33.8333,
                            "stage": "waiting_for_pickup",
                            "train_id": "YZU-IN-20260105-0610",
                        }
                    ],
                }
            ]
        }
    )

    yard: str | None = Field(description="the yard asked for; null for the corridor")
    min_age_h: float
    limit: int
    total: int = Field(description="boxes at least min_age_h old, listed or not")
    by_stage: dict[str, int] = Field(description="those boxes by the stage they are in")
    boxes: list[OverdueBoxPublic] = Field(description="the oldest `limit` of them, oldest first")


class DeadLetterSummary(BaseModel):
    """Messages that could not be applied, counted by reason."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"total": 3, "reasons": [{"reason": "ts: Expected `datetime`", "count": 3}]}
            ]
        }
    )

    total: int
    reasons: list[DeadLetterCountPublic]

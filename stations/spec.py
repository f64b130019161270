"""Station specs: every figure that makes one yard different from another, as data.

One TOML file per station lives in `stations/data/`. A scenario may override any field by
giving a nested table of the same shape (see `docs/scenarios.md`); `load_station` merges the
override into the file before parsing, so an override is validated exactly like the file.
Figures marked [E] in `DOMAIN.md` are estimates: they are defaults here, never constants in code.
"""

import copy
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from stations.distributions import Distribution, parse_distribution

STATION_IDS = ("tuanjiecun", "xiaonanya", "yuzui")


@dataclass(frozen=True, slots=True)
class GateSpec:
    """The in-gate: smart lanes, plus a manual lane for the share of trucks that need one."""

    lanes: int
    service_min: Distribution
    exception_share: float
    exception_lanes: int
    exception_service_min: Distribution
    exit_min: Distribution
    yard_drive_min: Distribution  # each way, between the gate and the stack block


@dataclass(frozen=True, slots=True)
class HandlingSpec:
    """Lifting equipment: RMGs work the tracks, reach stackers serve the trucks."""

    rmgs: int
    reach_stackers: int
    rmg_lift_min: Distribution
    reach_stacker_lift_min: Distribution


@dataclass(frozen=True, slots=True)
class StackSpec:
    """Ground slots (TEU) and reefer power plugs."""

    capacity_teu: int
    reefer_plugs: int


@dataclass(frozen=True, slots=True)
class InspectionSpec:
    """Customs: the share of export boxes held, bays, and how long an inspection takes."""

    bays: int
    share_general: float
    share_reefer: float
    scan_min: Distribution
    opened_share: float
    opened_min: Distribution


@dataclass(frozen=True, slots=True)
class TimetableEntry:
    """A daily departure: local time of day, where to, capacity, export cut-off."""

    service: str
    departure: str  # "HH:MM", local time of the station
    destination: str
    capacity_teu: int
    cutoff_h: float


@dataclass(frozen=True, slots=True)
class RailSpec:
    """Loading tracks, the gantries assigned to each train, and wagon placement."""

    loading_tracks: int
    gantries_per_train: int
    wagon_placement_min: Distribution
    timetable: tuple[TimetableEntry, ...]


@dataclass(frozen=True, slots=True)
class ReeferSpec:
    """Excursion rules and unpowered-warming physics (DOMAIN.md, reefer containers)."""

    frozen_below_c: float
    threshold_frozen_c: float
    threshold_chilled_c: float
    min_duration_min: float
    hysteresis_c: float
    ambient_c: float
    warming_frozen_per_h: float
    warming_chilled_per_h: float


@dataclass(frozen=True, slots=True)
class TrafficSpec:
    """Demand used by the traffic generator (the model itself is driven only by events)."""

    export_boxes_per_day: float
    import_boxes_per_day: float
    reefer_share: float
    forty_foot_share: float
    hourly_profile: tuple[float, ...]
    eta_lead_min: Distribution
    export_lead_h: Distribution
    import_pickup_h: Distribution
    import_trains_per_day: float
    reading_interval_min: float


@dataclass(frozen=True, slots=True)
class StationSpec:
    """Everything the model knows about one yard."""

    id: str
    name_zh: str
    name_en: str
    timezone: str
    gate: GateSpec
    handling: HandlingSpec
    stack: StackSpec
    inspection: InspectionSpec
    rail: RailSpec
    reefer: ReeferSpec
    traffic: TrafficSpec
    source: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def load_station(station_id: str, override: dict[str, Any] | None = None) -> StationSpec:
    """Read a station's TOML file, apply a scenario override, and validate the result."""
    if station_id not in STATION_IDS:
        raise ValueError(f"unknown station {station_id!r}; known: {', '.join(STATION_IDS)}")
    text = resources.files("stations").joinpath("data", f"{station_id}.toml").read_text("utf-8")
    table = tomllib.loads(text)
    if override:
        table = merge_tables(table, override, path=station_id)
    return parse_station(table)


def load_all_stations(overrides: dict[str, dict[str, Any]] | None = None) -> dict[str, StationSpec]:
    """All three corridor yards, in their canonical order."""
    overrides = overrides or {}
    unknown = set(overrides) - set(STATION_IDS)
    if unknown:
        raise ValueError(f"override for unknown station(s): {', '.join(sorted(unknown))}")
    return {sid: load_station(sid, overrides.get(sid)) for sid in STATION_IDS}


def merge_tables(base: dict[str, Any], override: dict[str, Any], path: str) -> dict[str, Any]:
    """Deep-merge `override` into a copy of `base`; unknown keys are an error, not a no-op."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        where = f"{path}.{key}"
        if key not in merged:
            raise ValueError(f"{where}: no such field in the station spec")
        is_distribution = isinstance(value, dict) and "dist" in value
        if isinstance(value, dict) and isinstance(merged[key], dict) and not is_distribution:
            merged[key] = merge_tables(merged[key], value, where)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def parse_station(table: dict[str, Any]) -> StationSpec:
    """Validate a station table; every error names the offending field."""
    sid = _text(table, "id")
    gate, handling = table["gate"], table["handling"]
    stack, inspection = table["stack"], table["inspection"]
    rail, reefer, traffic = table["rail"], table["reefer"], table["traffic"]
    return StationSpec(
        id=sid,
        name_zh=_text(table, "name_zh"),
        name_en=_text(table, "name_en"),
        timezone=_text(table, "timezone"),
        gate=GateSpec(
            lanes=_count(gate, "gate.lanes"),
            service_min=_dist(gate, "gate.service_min"),
            exception_share=_share(gate, "gate.exception_share"),
            exception_lanes=_count(gate, "gate.exception_lanes"),
            exception_service_min=_dist(gate, "gate.exception_service_min"),
            exit_min=_dist(gate, "gate.exit_min"),
            yard_drive_min=_dist(gate, "gate.yard_drive_min"),
        ),
        handling=HandlingSpec(
            rmgs=_count(handling, "handling.rmgs"),
            reach_stackers=_count(handling, "handling.reach_stackers"),
            rmg_lift_min=_dist(handling, "handling.rmg_lift_min"),
            reach_stacker_lift_min=_dist(handling, "handling.reach_stacker_lift_min"),
        ),
        stack=StackSpec(
            capacity_teu=_count(stack, "stack.capacity_teu"),
            reefer_plugs=_count(stack, "stack.reefer_plugs"),
        ),
        inspection=InspectionSpec(
            bays=_count(inspection, "inspection.bays"),
            share_general=_share(inspection, "inspection.share_general"),
            share_reefer=_share(inspection, "inspection.share_reefer"),
            scan_min=_dist(inspection, "inspection.scan_min"),
            opened_share=_share(inspection, "inspection.opened_share"),
            opened_min=_dist(inspection, "inspection.opened_min"),
        ),
        rail=RailSpec(
            loading_tracks=_count(rail, "rail.loading_tracks"),
            gantries_per_train=_count(rail, "rail.gantries_per_train"),
            wagon_placement_min=_dist(rail, "rail.wagon_placement_min"),
            timetable=tuple(
                _timetable_entry(entry, i) for i, entry in enumerate(rail["timetable"])
            ),
        ),
        reefer=ReeferSpec(**{key: _number(reefer, f"reefer.{key}") for key in _REEFER_KEYS}),
        traffic=_traffic(traffic),
        source=table,
    )


_REEFER_KEYS = (
    "frozen_below_c",
    "threshold_frozen_c",
    "threshold_chilled_c",
    "min_duration_min",
    "hysteresis_c",
    "ambient_c",
    "warming_frozen_per_h",
    "warming_chilled_per_h",
)


def _traffic(table: dict[str, Any]) -> TrafficSpec:
    profile = tuple(float(weight) for weight in table["hourly_profile"])
    if len(profile) != 24 or min(profile) < 0 or sum(profile) <= 0:
        raise ValueError("traffic.hourly_profile: needs 24 non-negative weights, not all zero")
    return TrafficSpec(
        export_boxes_per_day=_number(table, "traffic.export_boxes_per_day"),
        import_boxes_per_day=_number(table, "traffic.import_boxes_per_day"),
        reefer_share=_share(table, "traffic.reefer_share"),
        forty_foot_share=_share(table, "traffic.forty_foot_share"),
        hourly_profile=profile,
        eta_lead_min=_dist(table, "traffic.eta_lead_min"),
        export_lead_h=_dist(table, "traffic.export_lead_h"),
        import_pickup_h=_dist(table, "traffic.import_pickup_h"),
        import_trains_per_day=_number(table, "traffic.import_trains_per_day"),
        reading_interval_min=_number(table, "traffic.reading_interval_min"),
    )


def _timetable_entry(entry: dict[str, Any], index: int) -> TimetableEntry:
    where = f"rail.timetable[{index}]"
    departure = _text(entry, "departure", where)
    hours, _, minutes = departure.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
        raise ValueError(f"{where}.departure: expected HH:MM, got {departure!r}")
    return TimetableEntry(
        service=_text(entry, "service", where),
        departure=departure,
        destination=_text(entry, "destination", where),
        capacity_teu=_count(entry, f"{where}.capacity_teu"),
        cutoff_h=_number(entry, f"{where}.cutoff_h"),
    )


def _leaf(table: dict[str, Any], dotted: str) -> Any:
    key = dotted.rsplit(".", 1)[-1]
    if key not in table:
        raise ValueError(f"{dotted}: missing")
    return table[key]


def _text(table: dict[str, Any], key: str, where: str = "") -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{where + '.' if where else ''}{key}: expected a non-empty string")
    return value


def _number(table: dict[str, Any], dotted: str) -> float:
    value = _leaf(table, dotted)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{dotted}: expected a number, got {value!r}")
    return float(value)


def _count(table: dict[str, Any], dotted: str) -> int:
    value = _leaf(table, dotted)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{dotted}: expected a whole number of at least 1, got {value!r}")
    return value


def _share(table: dict[str, Any], dotted: str) -> float:
    value = _number(table, dotted)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{dotted}: expected a share between 0 and 1, got {value}")
    return value


def _dist(table: dict[str, Any], dotted: str) -> Distribution:
    return parse_distribution(dotted, _leaf(table, dotted))

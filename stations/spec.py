"""Station specs: every figure that makes one yard different from another, as data.

One TOML file per station, found by `stations.catalog` (in `stations/data/` and in the
directories of `CORRIDOR_STATIONS_DIR`); the file also carries the yard's names, its short code,
its DCSA facility codes and its dashboard colour, so no code lists the yards. A scenario may
override any field by giving a nested table of the same shape (see `docs/scenarios.md`);
`load_station` merges the override into the file before parsing, so an override is validated
exactly like the file. Figures marked [E] in `DOMAIN.md` are estimates: they are defaults here,
never constants in code.
"""

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from stations.catalog import StationFileError, catalog, station_ids
from stations.distributions import Distribution
from stations.policies import TODAY, Policies
from stations.spec_fields import (
    count,
    dist,
    leaf,
    matching,
    number,
    share,
    subtable,
    text,
)

_ID = re.compile(r"[a-z][a-z0-9_]{0,31}")
_CODE = re.compile(r"[A-Z][A-Z0-9]{1,7}")
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_OWNER_CODE = re.compile(r"[A-Z]{3}[UJZ]")
SERIAL_BLOCKS = 3  # the six-digit serial range is split in thirds between generated yards


@dataclass(frozen=True, slots=True)
class IdentitySpec:
    """How the yard is named outside the model: ids, DCSA facility codes, dashboard colour."""

    code: str  # short code in generated truck, train and event ids, e.g. "TJC"
    dcsa_facility_codes: tuple[str, ...]  # DCSA facilityCode / UNLocationCode naming the yard
    dashboard_colour: str  # "#rrggbb"


@dataclass(frozen=True, slots=True)
class ContainerNumberSpec:
    """Which ISO 6346 numbers the traffic generator gives this yard's boxes.

    A yard uses one third of the six-digit serial range (`serial_block`, 0-2) under each of its
    owner codes; two yards must not share a block and an owner code, so numbers never repeat
    across yards. No owner codes means the generator's common carriers.
    """

    serial_block: int
    owner_codes: tuple[str, ...] | None


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
    identity: IdentitySpec
    container_numbers: ContainerNumberSpec
    gate: GateSpec
    handling: HandlingSpec
    stack: StackSpec
    inspection: InspectionSpec
    rail: RailSpec
    reefer: ReeferSpec
    traffic: TrafficSpec
    source: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    policies: Policies = TODAY  # the levers pulled (`stations.policies`); set by a scenario


def load_station(station_id: str, override: dict[str, Any] | None = None) -> StationSpec:
    """Read a station's TOML file, apply a scenario override, and validate the result."""
    if station_id not in station_ids():
        raise ValueError(f"unknown station {station_id!r}; known: {', '.join(station_ids())}")
    table = catalog().tables[station_id]
    spec = _parse_file(station_id, table)
    if not override:
        return spec
    return parse_station(merge_tables(table, override, path=station_id))


def load_all_stations(overrides: dict[str, dict[str, Any]] | None = None) -> dict[str, StationSpec]:
    """Every yard of the catalogue, in id order; their codes must tell them apart."""
    overrides = overrides or {}
    unknown = set(overrides) - set(station_ids())
    if unknown:
        raise ValueError(f"override for unknown station(s): {', '.join(sorted(unknown))}")
    stations = {sid: load_station(sid, overrides.get(sid)) for sid in station_ids()}
    _check_distinct(stations)
    return stations


def _parse_file(station_id: str, table: dict[str, Any]) -> StationSpec:
    """The file's own spec; an error names the file as well as the key."""
    try:
        return parse_station(table)
    except (ValueError, KeyError, TypeError) as error:
        reason = f"{error.args[0]}: missing" if isinstance(error, KeyError) else str(error)
        raise StationFileError(f"{catalog().files[station_id]}: {reason}") from error


def _check_distinct(stations: dict[str, StationSpec]) -> None:
    """Two yards with one code or one DCSA facility code could not be told apart."""
    users: dict[tuple[str, str], str] = {}
    for sid, spec in stations.items():
        codes = [("dcsa.facility_codes", code) for code in spec.identity.dcsa_facility_codes]
        for key, value in [("code", spec.identity.code), *codes]:
            other = users.setdefault((key, value), sid)
            if other != sid:
                files = catalog().files
                raise StationFileError(
                    f"{files.get(sid, sid)}: {key}: {value!r} is already used by "
                    f"{files.get(other, other)}"
                )


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
    sid = text(table, "id")
    if not _ID.fullmatch(sid):
        raise ValueError(f"id: expected lower-case letters, digits or _ (at most 32), got {sid!r}")
    gate, handling = subtable(table, "gate"), subtable(table, "handling")
    stack, inspection = subtable(table, "stack"), subtable(table, "inspection")
    rail, reefer, traffic = (
        subtable(table, "rail"),
        subtable(table, "reefer"),
        subtable(table, "traffic"),
    )
    return StationSpec(
        id=sid,
        name_zh=text(table, "name_zh"),
        name_en=text(table, "name_en"),
        timezone=text(table, "timezone"),
        identity=_identity(table),
        container_numbers=_container_numbers(subtable(table, "containers")),
        gate=GateSpec(
            lanes=count(gate, "gate.lanes"),
            service_min=dist(gate, "gate.service_min"),
            exception_share=share(gate, "gate.exception_share"),
            exception_lanes=count(gate, "gate.exception_lanes"),
            exception_service_min=dist(gate, "gate.exception_service_min"),
            exit_min=dist(gate, "gate.exit_min"),
            yard_drive_min=dist(gate, "gate.yard_drive_min"),
        ),
        handling=HandlingSpec(
            rmgs=count(handling, "handling.rmgs"),
            reach_stackers=count(handling, "handling.reach_stackers"),
            rmg_lift_min=dist(handling, "handling.rmg_lift_min"),
            reach_stacker_lift_min=dist(handling, "handling.reach_stacker_lift_min"),
        ),
        stack=StackSpec(
            capacity_teu=count(stack, "stack.capacity_teu"),
            reefer_plugs=count(stack, "stack.reefer_plugs"),
        ),
        inspection=InspectionSpec(
            bays=count(inspection, "inspection.bays"),
            share_general=share(inspection, "inspection.share_general"),
            share_reefer=share(inspection, "inspection.share_reefer"),
            scan_min=dist(inspection, "inspection.scan_min"),
            opened_share=share(inspection, "inspection.opened_share"),
            opened_min=dist(inspection, "inspection.opened_min"),
        ),
        rail=RailSpec(
            loading_tracks=count(rail, "rail.loading_tracks"),
            gantries_per_train=count(rail, "rail.gantries_per_train"),
            wagon_placement_min=dist(rail, "rail.wagon_placement_min"),
            timetable=tuple(_timetable_entry(entry, i) for i, entry in enumerate(_entries(rail))),
        ),
        reefer=ReeferSpec(**{key: number(reefer, f"reefer.{key}") for key in _REEFER_KEYS}),
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


def _identity(table: dict[str, Any]) -> IdentitySpec:
    facility_codes = subtable(table, "dcsa").get("facility_codes")
    if not isinstance(facility_codes, list) or not all(
        isinstance(code, str) and code for code in facility_codes
    ):
        raise ValueError("dcsa.facility_codes: expected a list of non-empty strings")
    return IdentitySpec(
        code=matching(table, "code", _CODE, "2-8 upper-case letters or digits"),
        dcsa_facility_codes=tuple(facility_codes),
        dashboard_colour=matching(
            subtable(table, "dashboard"), "dashboard.colour", _COLOUR, "a colour #rrggbb"
        ),
    )


def _container_numbers(table: dict[str, Any]) -> ContainerNumberSpec:
    block = leaf(table, "containers.serial_block")
    if isinstance(block, bool) or not isinstance(block, int) or not 0 <= block < SERIAL_BLOCKS:
        raise ValueError(f"containers.serial_block: expected 0, 1 or 2, got {block!r}")
    owners = table.get("owner_codes")
    if owners is None:
        return ContainerNumberSpec(block, None)
    if not isinstance(owners, list) or not owners or len(set(owners)) != len(owners):
        raise ValueError("containers.owner_codes: expected a list of distinct owner codes")
    for code in owners:
        if not isinstance(code, str) or not _OWNER_CODE.fullmatch(code):
            raise ValueError(f"containers.owner_codes: {code!r} is not an ISO 6346 owner code")
    return ContainerNumberSpec(block, tuple(owners))


def _traffic(table: dict[str, Any]) -> TrafficSpec:
    weights = leaf(table, "traffic.hourly_profile")
    if not isinstance(weights, list) or not all(
        isinstance(weight, int | float) and not isinstance(weight, bool) for weight in weights
    ):
        raise ValueError("traffic.hourly_profile: needs 24 non-negative weights, not all zero")
    profile = tuple(float(weight) for weight in weights)
    if len(profile) != 24 or min(profile) < 0 or sum(profile) <= 0:
        raise ValueError("traffic.hourly_profile: needs 24 non-negative weights, not all zero")
    return TrafficSpec(
        export_boxes_per_day=number(table, "traffic.export_boxes_per_day"),
        import_boxes_per_day=number(table, "traffic.import_boxes_per_day"),
        reefer_share=share(table, "traffic.reefer_share"),
        forty_foot_share=share(table, "traffic.forty_foot_share"),
        hourly_profile=profile,
        eta_lead_min=dist(table, "traffic.eta_lead_min"),
        export_lead_h=dist(table, "traffic.export_lead_h"),
        import_pickup_h=dist(table, "traffic.import_pickup_h"),
        import_trains_per_day=number(table, "traffic.import_trains_per_day"),
        reading_interval_min=number(table, "traffic.reading_interval_min"),
    )


def _entries(rail: dict[str, Any]) -> list[dict[str, Any]]:
    entries = leaf(rail, "rail.timetable")
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise ValueError("rail.timetable: expected a list of tables (departures)")
    return entries


def _timetable_entry(entry: dict[str, Any], index: int) -> TimetableEntry:
    where = f"rail.timetable[{index}]"
    departure = text(entry, "departure", where)
    hours, _, minutes = departure.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
        raise ValueError(f"{where}.departure: expected HH:MM, got {departure!r}")
    return TimetableEntry(
        service=text(entry, "service", where),
        departure=departure,
        destination=text(entry, "destination", where),
        capacity_teu=count(entry, f"{where}.capacity_teu"),
        cutoff_h=number(entry, f"{where}.cutoff_h"),
    )

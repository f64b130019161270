"""Station specs: every figure that makes one yard different from another, as data.

One TOML file per station, found by `stations.catalog` (in `stations/data/` and in the
directories of `CORRIDOR_STATIONS_DIR`); the file also carries the yard's names, its short code,
its DCSA facility codes and its dashboard colour, so no code lists the yards. A scenario may
override any field by giving a nested table of the same shape (see `docs/scenarios.md`);
`load_station` merges the override into the file before parsing, so an override goes through
the same schema as the file. The schema is the msgspec structs below (unknown keys refused
everywhere, ranges in `Meta`, cross-field rules in `__post_init__`); an error is one line
naming the path (`rail.timetable[2].capacity_teu`). Where each figure comes from ([S]
published, [D] derived, [E] estimate) is in the files and in `docs/sources.md`.
"""

import copy
import functools
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from stations.catalog import StationFileError, catalog, station_ids
from stations.distributions import Distribution
from stations.policies import TODAY, Policies
from stations.spec_errors import SpecError, convert

SERIAL_BLOCKS = 3  # the six-digit serial range is split in thirds between generated yards
_OWNER_CODE = re.compile(r"[A-Z]{3}[UJZ]")
_ID = "^[a-z][a-z0-9_]{0,31}$"
_CODE = "^[A-Z][A-Z0-9]{1,7}$"
_COLOUR = "^#[0-9a-fA-F]{6}$"
_HHMM = "^([01][0-9]|2[0-3]):[0-5][0-9]$"
_OFFSET = "^(Z|UTC|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
PATTERNS = {
    _ID: "lower-case letters, digits or _ (at most 32)",
    _CODE: "2-8 upper-case letters or digits",
    _COLOUR: "a colour #rrggbb",
    _HHMM: "HH:MM",
    _OFFSET: "a UTC offset such as +08:00",
}

Text = Annotated[str, Meta(min_length=1)]
Count = Annotated[int, Meta(ge=1)]
Share = Annotated[float, Meta(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Meta(ge=0.0)]
Positive = Annotated[float, Meta(gt=0.0)]
AirC = Annotated[float, Meta(ge=-60.0, le=60.0)]  # outside air anywhere trains run
CargoC = Annotated[float, Meta(ge=-70.0, le=40.0)]  # reefer setpoints, ultra-frozen to tropical
DeviationC = Annotated[float, Meta(ge=0.0, le=20.0)]


class _Section(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A table of a station file: unknown keys are refused, never ignored."""


class GateSpec(_Section, frozen=True):
    """The in-gate: smart lanes, plus a manual lane for the share of trucks that need one."""

    lanes: Count
    service_min: Distribution
    exception_share: Share
    exception_lanes: Count
    exception_service_min: Distribution
    exit_min: Distribution
    yard_drive_min: Distribution  # each way, between the gate and the stack block


class HandlingSpec(_Section, frozen=True):
    """Lifting equipment: RMGs work the tracks, reach stackers serve the trucks."""

    rmgs: Count
    reach_stackers: Count
    rmg_lift_min: Distribution
    reach_stacker_lift_min: Distribution


class StackSpec(_Section, frozen=True):
    """Ground slots (TEU) and reefer power plugs."""

    capacity_teu: Count
    reefer_plugs: Count


class InspectionSpec(_Section, frozen=True):
    """Customs: the share of export boxes held, bays, and how long an inspection takes."""

    bays: Count
    share_general: Share
    share_reefer: Share
    scan_min: Distribution
    opened_share: Share
    opened_min: Distribution


class TimetableEntry(_Section, frozen=True):
    """A daily departure: local time of day, where to, capacity, export cut-off.

    The cut-off is `cutoff_h` hours before the departure (never after it): loading starts then.
    """

    service: Text
    departure: Annotated[str, Meta(pattern=_HHMM)]  # local time of the station
    destination: Text
    capacity_teu: Annotated[int, Meta(ge=1, le=1000)]
    cutoff_h: Annotated[float, Meta(ge=0.0, le=72.0)]


class RailSpec(_Section, frozen=True):
    """Loading tracks, the gantries assigned to each train, and wagon placement."""

    loading_tracks: Count
    gantries_per_train: Count
    wagon_placement_min: Distribution
    timetable: tuple[TimetableEntry, ...]


class ReeferSpec(_Section, frozen=True):
    """Excursion rules and unpowered-warming physics (DOMAIN.md, reefer containers).

    `ambient_monthly_c` holds the mean outside air temperature of each calendar month,
    January first: an unpowered box warms towards the air of the month it is in.
    """

    frozen_below_c: CargoC
    threshold_frozen_c: DeviationC
    threshold_chilled_c: DeviationC
    min_duration_min: NonNegative
    hysteresis_c: DeviationC
    ambient_monthly_c: Annotated[tuple[AirC, ...], Meta(min_length=12, max_length=12)]
    warming_frozen_per_h: Annotated[float, Meta(ge=0.0, le=1.0)]
    warming_chilled_per_h: Annotated[float, Meta(ge=0.0, le=1.0)]

    def __post_init__(self) -> None:
        tightest = min(self.threshold_frozen_c, self.threshold_chilled_c)
        if self.hysteresis_c >= tightest:
            raise ValueError(
                f"hysteresis_c: must be below the tighter threshold ({tightest}), "
                f"or an excursion could never clear; got {self.hysteresis_c}"
            )

    def ambient_c(self, month: int) -> float:
        """The mean outside air temperature in calendar month `month` (1-12)."""
        return self.ambient_monthly_c[month - 1]


class TrafficSpec(_Section, frozen=True):
    """Demand used by the traffic generator (the model itself is driven only by events).

    Dwell comes from the lead times: an export box reaches the gate `export_lead_h` before
    the departure it is booked on, an import box is collected `import_pickup_h` after it is
    unloaded; reefers (perishable, paying for power) have their own, shorter leads.
    """

    export_boxes_per_day: NonNegative
    import_boxes_per_day: NonNegative
    reefer_share: Share
    forty_foot_share: Share
    hourly_profile: tuple[NonNegative, ...]
    eta_lead_min: Distribution
    export_lead_h: Distribution
    import_pickup_h: Distribution
    reefer_export_lead_h: Distribution
    reefer_import_pickup_h: Distribution
    import_trains_per_day: Annotated[float, Meta(ge=0.0, le=48.0)]
    reading_interval_min: Positive

    def __post_init__(self) -> None:
        if len(self.hourly_profile) != 24 or sum(self.hourly_profile) <= 0:
            raise ValueError("hourly_profile: needs 24 non-negative weights, not all zero")


class _Dashboard(_Section, frozen=True):
    colour: Annotated[str, Meta(pattern=_COLOUR)]


class _Dcsa(_Section, frozen=True):
    facility_codes: Annotated[tuple[Text, ...], Meta(min_length=1)]


class ContainerNumberSpec(_Section, frozen=True):
    """Which ISO 6346 numbers the traffic generator gives this yard's boxes.

    A yard uses one third of the six-digit serial range (`serial_block`, 0-2) under each of its
    owner codes; two yards must not share a block and an owner code, so numbers never repeat
    across yards. No owner codes means the generator's common carriers.
    """

    serial_block: int
    owner_codes: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.serial_block < SERIAL_BLOCKS:
            raise ValueError(f"serial_block: expected 0, 1 or 2, got {self.serial_block!r}")
        owners = self.owner_codes
        if owners is not None and (not owners or len(set(owners)) != len(owners)):
            raise ValueError("owner_codes: expected a list of distinct owner codes")
        for code in owners or ():
            if not _OWNER_CODE.fullmatch(code):
                raise ValueError(f"owner_codes: {code!r} is not an ISO 6346 owner code")


class StationFile(_Section, frozen=True):
    """A station file as written: the schema every file and every override goes through."""

    id: Annotated[str, Meta(pattern=_ID)]
    name_zh: Text
    name_en: Text
    code: Annotated[str, Meta(pattern=_CODE)]  # in generated truck, train and event ids
    timezone: Annotated[str, Meta(pattern=_OFFSET)]
    dashboard: _Dashboard
    dcsa: _Dcsa
    containers: ContainerNumberSpec
    gate: GateSpec
    handling: HandlingSpec
    stack: StackSpec
    inspection: InspectionSpec
    rail: RailSpec
    reefer: ReeferSpec
    traffic: TrafficSpec


@dataclass(frozen=True, slots=True)
class IdentitySpec:
    """How the yard is named outside the model: ids, DCSA facility codes, dashboard colour."""

    code: str  # short code in generated truck, train and event ids, e.g. "TJC"
    dcsa_facility_codes: tuple[str, ...]  # DCSA facilityCode / UNLocationCode naming the yard
    dashboard_colour: str  # "#rrggbb"


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

    def local_month(self, moment: datetime) -> int:
        """The calendar month (1-12) of `moment` in the yard's own UTC offset."""
        return moment.astimezone(utc_offset(self.timezone)).month


@functools.lru_cache(maxsize=32)  # a few station zones, read at every reefer-alert scan
def utc_offset(text: str) -> timezone:
    """A validated station `timezone` ("+08:00", "Z" or "UTC") as a fixed offset."""
    if text in ("Z", "UTC"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    return timezone(sign * timedelta(hours=int(text[1:3]), minutes=int(text[4:6])))


def load_station(station_id: str, override: dict[str, Any] | None = None) -> StationSpec:
    """Read a station's TOML file, apply a scenario override, and validate the result."""
    if station_id not in station_ids():
        raise ValueError(f"unknown station {station_id!r}; known: {', '.join(station_ids())}")
    table = catalog().tables[station_id]
    try:
        spec = parse_station(table)
    except SpecError as error:
        raise StationFileError(f"{catalog().files[station_id]}: {error}") from None
    if not override:
        return spec
    try:
        return parse_station(merge_tables(table, override))
    except SpecError as error:
        raise ValueError(error.at(f"stations.{station_id}")) from None


def load_all_stations(overrides: dict[str, dict[str, Any]] | None = None) -> dict[str, StationSpec]:
    """Every yard of the catalogue, in id order; their codes must tell them apart."""
    overrides = overrides or {}
    for sid, override in overrides.items():
        if sid not in station_ids():
            raise ValueError(f"stations.{sid}: unknown station; known: {', '.join(station_ids())}")
        if not isinstance(override, dict):
            raise ValueError(f"stations.{sid}: expected a table, got {override!r}")
    stations = {sid: load_station(sid, overrides.get(sid)) for sid in station_ids()}
    _check_distinct(stations)
    return stations


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


def merge_tables(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge `override` into a copy of `base`; the schema then refuses unknown keys.

    A distribution (a table with `dist`), a list and a number replace the old value whole.
    """
    merged = copy.deepcopy(base)
    for key, value in override.items():
        is_distribution = isinstance(value, dict) and "dist" in value
        if isinstance(value, dict) and isinstance(merged.get(key), dict) and not is_distribution:
            merged[key] = merge_tables(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def parse_station(table: dict[str, Any]) -> StationSpec:
    """Validate a station table against the schema; a `SpecError` names the path."""
    if not isinstance(table, dict):
        raise SpecError("", f"expected a table, got {table!r}")
    parsed: StationFile = convert(_constants(table, StationFile), StationFile, patterns=PATTERNS)
    return StationSpec(
        id=parsed.id,
        name_zh=parsed.name_zh,
        name_en=parsed.name_en,
        timezone=parsed.timezone,
        identity=IdentitySpec(parsed.code, parsed.dcsa.facility_codes, parsed.dashboard.colour),
        container_numbers=parsed.containers,
        gate=parsed.gate,
        handling=parsed.handling,
        stack=parsed.stack,
        inspection=parsed.inspection,
        rail=parsed.rail,
        reefer=parsed.reefer,
        traffic=parsed.traffic,
        source=table,
    )


def _constants(value: Any, kind: Any) -> Any:
    """`value` with every bare number given for a distribution written as a constant table."""
    if kind == Distribution:
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        return {"dist": "constant", "value": value} if is_number else value
    if isinstance(kind, type) and issubclass(kind, msgspec.Struct) and isinstance(value, dict):
        kinds = {info.name: info.type for info in msgspec.structs.fields(kind)}
        return {key: _constants(item, kinds.get(key)) for key, item in value.items()}
    return value

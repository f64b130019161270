"""Scenarios: a planner's changes to the yards, as a TOML file (see `docs/scenarios.md`).

A scenario overrides any field of any station spec (``[stations.tuanjiecun.gate] lanes = 10``),
any distribution (``[stations.yuzui.gate.service_min] dist = "exponential"``), the arrival
profile (``stations.X.traffic.hourly_profile``) and the run defaults (``[run] seed``, ``days``,
``start``). Everything goes through a schema (`ScenarioFile` here, `stations.spec` for each
station's table): unknown keys and values out of range are one-line errors naming the path,
as `stations.xiaonanya.rail.timetable[2].capacity_teu`, never silent no-ops.

The corridor's levers are sections of their own (`apply_levers`): `[policies.<yard>.<policy>]`
picks an operating policy of `stations.policies` (appointment slots, reefer checks, smart
tallying, the loading plan), `[demand.<yard>]` grows the generated traffic by direction, and
`[[extra_departures.<yard>]]` adds departures to a yard's timetable; `all` in place of a yard
id applies to every yard. Their shape is checked by `ScenarioFile`, their contents by the
policy schema and, for demand and departures, by the station schema itself.
"""

import dataclasses
import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any

import msgspec

from stations.policies import parse_policies
from stations.spec import StationSpec, load_all_stations, merge_tables, parse_station
from stations.spec_errors import SpecError, convert

CORRIDOR_TZ = timezone(timedelta(hours=8))
DEFAULT_START = datetime(2026, 1, 5, tzinfo=CORRIDOR_TZ)
EVERY_YARD = "all"
_TIMETABLE_ENTRY = re.compile(r"rail\.timetable\[(?P<index>\d+)\](?P<rest>.*)")
_DEMAND_KEYS = {"export": "export_boxes_per_day", "import": "import_boxes_per_day"}


class _Run(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """`[run]`: defaults a command line may still override."""

    seed: Annotated[int, msgspec.Meta(ge=0)] | None = None
    days: Annotated[int, msgspec.Meta(ge=1)] | None = None
    start: Annotated[datetime, msgspec.Meta(tz=True)] | None = None


class ScenarioFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A scenario file as written; each `stations.<id>` table goes through the station schema,
    each lever section's tables through `apply_levers` (yard ids or `all` as keys)."""

    name: Annotated[str, msgspec.Meta(min_length=1)] | None = None
    description: str = ""
    run: _Run = _Run()
    stations: dict[str, dict[str, Any]] = {}
    policies: dict[str, Any] = {}  # the lever sections, by yard id: `apply_levers` checks them
    demand: dict[str, Any] = {}
    extra_departures: dict[str, Any] = {}


@dataclass(frozen=True, slots=True)
class Scenario:
    """Station specs after overrides, plus run defaults a command line may still override."""

    stations: dict[str, StationSpec]
    seed: int | None = None
    days: int | None = None
    start: datetime | None = None
    name: str = "baseline"
    overrides: dict[str, Any] = field(default_factory=dict)


def load_scenario(path: Path | None) -> Scenario:
    """Read a scenario file; None gives the baseline corridor. Errors are one line."""
    if path is None:
        return Scenario(load_all_stations())
    try:
        table = tomllib.loads(path.read_text("utf-8"))
    except OSError as error:
        raise ValueError(f"{path}: cannot read scenario: {error.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not valid TOML: {error}") from None
    try:
        return parse_scenario(table, name=path.stem)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None


def parse_scenario(table: dict[str, Any], name: str = "scenario") -> Scenario:
    """Validate a scenario table; an error names the path (`stations.yuzui.gate.lanes`)."""
    try:
        parsed: ScenarioFile = convert(table, ScenarioFile)
    except SpecError as error:
        if not error.path.startswith("stations."):
            raise ValueError(str(error)) from None
        parsed = ScenarioFile()  # a station table, which the station schema explains better
    overrides = table.get("stations", {}) if isinstance(table, dict) else {}
    if not isinstance(overrides, dict):
        raise ValueError(f"stations: expected a table, got {overrides!r}")
    return Scenario(
        stations=apply_levers(load_all_stations(overrides), parsed),
        seed=parsed.run.seed,
        days=parsed.run.days,
        start=parsed.run.start,
        name=parsed.name or name,
        overrides=overrides,
    )


def apply_levers(stations: dict[str, StationSpec], parsed: ScenarioFile) -> dict[str, StationSpec]:
    """The stations with the scenario's lever sections applied (`docs/scenarios.md`).

    Demand factors and extra departures become overrides of the yard's (already overridden)
    table, so they are validated exactly like a station file; policies are parsed by
    `stations.policies` and set on the spec. Without lever sections the stations are returned
    as they are.
    """
    policies = _per_yard(parsed.policies, "policies", stations)
    demand = _per_yard(parsed.demand, "demand", stations)
    extra = _per_yard(parsed.extra_departures, "extra_departures", stations)
    levered = {}
    for sid, spec in stations.items():
        override = _demand_override(spec, demand.get(sid), f"demand.{sid}")
        if sid in extra:
            override["rail"] = {"timetable": [*spec.source["rail"]["timetable"], *extra[sid]]}
        if override:
            spec = _reparsed(spec, override, sid)
        if sid in policies:
            spec = dataclasses.replace(
                spec, policies=parse_policies(policies[sid], f"policies.{sid}")
            )
        levered[sid] = spec
    return levered


def _reparsed(spec: StationSpec, override: dict[str, Any], sid: str) -> StationSpec:
    """`spec` with a lever's override merged into its table and the result validated anew;
    an error in an added departure names it (`extra_departures.yuzui[0].departure`)."""
    try:
        return parse_station(merge_tables(spec.source, override))
    except SpecError as error:
        found = _TIMETABLE_ENTRY.match(error.path)
        own = len(spec.source["rail"]["timetable"])
        if found is None or int(found["index"]) < own:
            raise ValueError(error.at(f"stations.{sid}")) from None
        added = f"extra_departures.{sid}[{int(found['index']) - own}]{found['rest']}"
        raise ValueError(f"{added}: {error.reason}") from None


def _per_yard(by_yard: dict[str, Any], section: str, stations: dict[str, StationSpec]) -> Any:
    """A lever section by yard id, `all` merged under each yard's own entry."""
    container = list if section == "extra_departures" else dict
    if not all(isinstance(value, container) for value in by_yard.values()):
        shape = "[[extra_departures.<yard>]] tables" if container is list else f"[{section}.<yard>]"
        raise ValueError(f"{section}: expected {shape}")
    unknown = set(by_yard) - set(stations) - {EVERY_YARD}
    if unknown:
        raise ValueError(f"{section}: unknown yard(s) {', '.join(sorted(unknown))}")
    common = by_yard.get(EVERY_YARD)
    merged: dict[str, Any] = {}
    for sid in stations:
        own = by_yard.get(sid)
        if common is None or own is None:
            if (chosen := own if own is not None else common) is not None:
                merged[sid] = chosen
        else:
            merged[sid] = [*common, *own] if isinstance(own, list) else {**common, **own}
    return merged


def _demand_override(
    spec: StationSpec, factors: dict[str, Any] | None, where: str
) -> dict[str, Any]:
    """Traffic overrides that grow the yard's boxes per day by direction (`export`, `import`)."""
    if not factors:
        return {}
    unknown = set(factors) - set(_DEMAND_KEYS)
    if unknown:
        raise ValueError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))}; known: export, import"
        )
    traffic = {}
    for direction, factor in factors.items():
        if isinstance(factor, bool) or not isinstance(factor, int | float) or factor < 0:
            raise ValueError(f"{where}.{direction}: expected a non-negative factor, got {factor!r}")
        field_name = _DEMAND_KEYS[direction]
        traffic[field_name] = getattr(spec.traffic, field_name) * factor
    return {"traffic": traffic}

"""Scenarios: a planner's changes to the yards, as a TOML file (see `docs/scenarios.md`).

A scenario overrides any field of any station spec (``[stations.tuanjiecun.gate] lanes = 10``),
any distribution (``[stations.yuzui.gate.service_min] dist = "exponential"``), the arrival
profile (``stations.X.traffic.hourly_profile``) and the run defaults (``[run] seed``, ``days``,
``start``). Unknown keys are errors that name the key, never silent no-ops.

The corridor's levers are sections of their own (`apply_levers`): `[policies.<yard>.<policy>]`
picks an operating policy of `stations.policies` (appointment slots, reefer checks, smart
tallying, the loading plan), `[demand.<yard>]` grows the generated traffic by direction, and
`[[extra_departures.<yard>]]` adds departures to a yard's timetable; `all` in place of a yard
id applies to every yard.
"""

import dataclasses
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from stations.policies import parse_policies
from stations.spec import StationSpec, load_all_stations, merge_tables, parse_station

CORRIDOR_TZ = timezone(timedelta(hours=8))
DEFAULT_START = datetime(2026, 1, 5, tzinfo=CORRIDOR_TZ)
_RUN_KEYS = {"seed", "days", "start"}
LEVER_SECTIONS = ("policies", "demand", "extra_departures")
EVERY_YARD = "all"
_DEMAND_KEYS = {"export": "export_boxes_per_day", "import": "import_boxes_per_day"}


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
    """Read a scenario file; None gives the baseline corridor."""
    if path is None:
        return Scenario(load_all_stations())
    try:
        table = tomllib.loads(path.read_text("utf-8"))
    except OSError as error:
        raise ValueError(f"{path}: cannot read scenario: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{path}: not valid TOML: {error}") from None
    return parse_scenario(table, name=path.stem)


def parse_scenario(table: dict[str, Any], name: str = "scenario") -> Scenario:
    """Validate a scenario table; errors name the key."""
    unknown = set(table) - {"stations", "run", "name", "description", *LEVER_SECTIONS}
    if unknown:
        raise ValueError(f"unknown scenario section(s): {', '.join(sorted(unknown))}")
    overrides = table.get("stations", {})
    run = table.get("run", {})
    bad_run = set(run) - _RUN_KEYS
    if bad_run:
        raise ValueError(f"run: unknown key(s) {', '.join(sorted(bad_run))}")
    start = run.get("start")
    if start is not None and (not isinstance(start, datetime) or start.tzinfo is None):
        raise ValueError("run.start: expected an RFC 3339 date-time with an offset")
    return Scenario(
        stations=apply_levers(load_all_stations(overrides), table),
        seed=_optional_int(run, "seed"),
        days=_optional_int(run, "days"),
        start=start,
        name=str(table.get("name", name)),
        overrides=overrides,
    )


def _optional_int(table: dict[str, Any], key: str) -> int | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"run.{key}: expected a non-negative whole number, got {value!r}")
    return value


def apply_levers(stations: dict[str, StationSpec], table: dict[str, Any]) -> dict[str, StationSpec]:
    """The stations with the scenario's lever sections applied (`docs/scenarios.md`).

    Demand factors and extra departures become overrides of the yard's (already overridden)
    table, so they are validated exactly like a station file; policies are parsed by
    `stations.policies` and set on the spec. Without lever sections the stations are returned
    as they are.
    """
    policies = _per_yard(table, "policies", stations)
    demand = _per_yard(table, "demand", stations)
    extra = _per_yard(table, "extra_departures", stations)
    levered = {}
    for sid, spec in stations.items():
        override = _demand_override(spec, demand.get(sid), f"demand.{sid}")
        if sid in extra:
            override["rail"] = {"timetable": [*spec.source["rail"]["timetable"], *extra[sid]]}
        if override:
            spec = parse_station(merge_tables(spec.source, override, path=sid))
        if sid in policies:
            spec = dataclasses.replace(
                spec, policies=parse_policies(policies[sid], f"policies.{sid}")
            )
        levered[sid] = spec
    return levered


def _per_yard(
    table: dict[str, Any], section: str, stations: dict[str, StationSpec]
) -> dict[str, Any]:
    """A lever section by yard id, `all` merged under each yard's own entry."""
    by_yard = table.get(section, {})
    container = list if section == "extra_departures" else dict
    if not isinstance(by_yard, dict) or not all(isinstance(v, container) for v in by_yard.values()):
        shape = "[[extra_departures.<yard>]] tables" if container is list else "[<section>.<yard>]"
        raise ValueError(f"{section}: expected {shape.replace('<section>', section)}")
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
            merged[sid] = [*common, *own] if container is list else {**common, **own}
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

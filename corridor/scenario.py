"""Scenarios: a planner's changes to the yards, as a TOML file (see `docs/scenarios.md`).

A scenario overrides any field of any station spec (``[stations.tuanjiecun.gate] lanes = 10``),
any distribution (``[stations.yuzui.gate.service_min] dist = "exponential"``), the arrival
profile (``stations.X.traffic.hourly_profile``) and the run defaults (``[run] seed``, ``days``,
``start``). Everything goes through a schema (`ScenarioFile` here, `stations.spec` for each
station's table): unknown keys and values out of range are one-line errors naming the path,
as `stations.xiaonanya.rail.timetable[2].capacity_teu`, never silent no-ops.
"""

import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any

import msgspec

from stations.spec import StationSpec, load_all_stations
from stations.spec_errors import SpecError, convert

CORRIDOR_TZ = timezone(timedelta(hours=8))
DEFAULT_START = datetime(2026, 1, 5, tzinfo=CORRIDOR_TZ)


class _Run(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """`[run]`: defaults a command line may still override."""

    seed: Annotated[int, msgspec.Meta(ge=0)] | None = None
    days: Annotated[int, msgspec.Meta(ge=1)] | None = None
    start: Annotated[datetime, msgspec.Meta(tz=True)] | None = None


class ScenarioFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A scenario file as written; each `stations.<id>` table goes through the station schema."""

    name: Annotated[str, msgspec.Meta(min_length=1)] | None = None
    description: str = ""
    run: _Run = _Run()
    stations: dict[str, dict[str, Any]] = {}


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
        if error.path.startswith("stations."):  # a table the station schema explains better
            parsed = ScenarioFile()
        else:
            raise ValueError(str(error)) from None
    overrides = table.get("stations", {}) if isinstance(table, dict) else {}
    if not isinstance(overrides, dict):
        raise ValueError(f"stations: expected a table, got {overrides!r}")
    return Scenario(
        stations=load_all_stations(overrides),
        seed=parsed.run.seed,
        days=parsed.run.days,
        start=parsed.run.start,
        name=parsed.name or name,
        overrides=overrides,
    )

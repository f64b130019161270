"""Scenarios: a planner's changes to the yards, as a TOML file (see `docs/scenarios.md`).

A scenario overrides any field of any station spec (``[stations.tuanjiecun.gate] lanes = 10``),
any distribution (``[stations.yuzui.gate.service_min] dist = "exponential"``), the arrival
profile (``stations.X.traffic.hourly_profile``) and the run defaults (``[run] seed``, ``days``,
``start``). Unknown keys are errors that name the key, never silent no-ops.
"""

import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from stations.spec import StationSpec, load_all_stations

CORRIDOR_TZ = timezone(timedelta(hours=8))
DEFAULT_START = datetime(2026, 1, 5, tzinfo=CORRIDOR_TZ)
_RUN_KEYS = {"seed", "days", "start"}


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
    unknown = set(table) - {"stations", "run", "name", "description"}
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
        stations=load_all_stations(overrides),
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

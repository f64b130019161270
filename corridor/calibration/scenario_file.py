"""The fitted parameters as a scenario file (`docs/scenarios.md`), on top of the base scenario.

The file holds the base scenario's own overrides, each fitted distribution replacing the field
it fits, and the seed of the calibration in `[run]`, so `corridor replay LOG --scenario FILE`
reproduces the "after" figures of the report. It is written with tomli-w and read back through
`corridor.scenario.parse_scenario` before it is kept: a file that would not load is never
written.
"""

import copy
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import tomli_w

from corridor.calibration.fitting import Fit, as_table, describe
from corridor.scenario import Scenario, parse_scenario


def scenario_table(base: Scenario, fits: Iterable[Fit], seed: int) -> dict[str, Any]:
    """The scenario table: `base`'s overrides with every fitted knob's distribution set."""
    stations: dict[str, Any] = copy.deepcopy(base.overrides)
    changed = []
    for fit in fits:
        if not fit.fitted:
            continue
        section = stations.setdefault(fit.yard, {}).setdefault(fit.knob.section, {})
        section[fit.knob.field] = as_table(fit.after)
        changed.append(f"{fit.yard}.{fit.knob.path} = {describe(fit.after)}")
    run: dict[str, Any] = {"seed": seed}
    if base.days is not None:
        run["days"] = base.days
    if base.start is not None:
        run["start"] = base.start
    summary = "; ".join(changed) if changed else "nothing had enough observations to fit"
    return {
        "name": f"{base.name}-calibrated",
        "description": f"Fitted by `corridor calibrate` on {base.name}: {summary}",
        "run": run,
        "stations": stations,
    }


def write_scenario(table: dict[str, Any], path: Path) -> Scenario:
    """Write the table as TOML at `path`, after checking that the text loads as a scenario."""
    text = tomli_w.dumps(table)
    scenario = parse_scenario(tomllib.loads(text), name=path.stem)
    path.write_text(text, encoding="utf-8")
    return scenario

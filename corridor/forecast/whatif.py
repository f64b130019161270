"""A what-if forked from the live yard: baseline and scenario from the same state, compared.

Both sides fork the same start state (`corridor.forecast.start_state`) at now; the scenario's
yards then run under its specs (`stations.yard.Yard.resize`: gate lanes, reach stackers,
RMGs, inspection bays and loading tracks take their new counts at once, process times apply
from the next draw). Replication r of both draws from the same streams and gets the same
generated traffic (common random numbers), so a scenario identical to the baseline gives
identical figures, and the comparison is paired replication by replication.

The figures compared, per yard and for the corridor, over the horizon (each replication one
value): `gate_queue.mean` (trucks, time-weighted), `turnaround_min.mean` (the trucks reaching
the gate in the horizon), `plugs_in_use.mean`, `boxes_over_24h` at the end and
`trains_late` (departures due in the horizon that left late or not at all). They go through
the planner's comparison (`corridor.compare`: paired t intervals, `comparison.csv`/`.md`,
`report.html`).

What a running yard cannot change: stack room, reefer plugs and the policies (each refused
with the yard and section named); a timetable change applies to departures announced after
now (the generated traffic announces them), not to trains already announced.
"""

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from corridor.compare.report import Comparison, compare_runs
from corridor.compare.runs import CORRIDOR_SCOPE, ReplicationValues, Run
from corridor.forecast.bands import Forecast, summarise
from corridor.forecast.measures import YardOutcome
from corridor.forecast.run import ForecastJob, check_hours, run_replications
from corridor.forecast.start_state import StartState
from stations.spec import StationSpec

BASELINE = "baseline (live yard)"


@dataclass(frozen=True, slots=True)
class WhatIf:
    """The comparison, and both sides' forecasts."""

    comparison: Comparison
    baseline: Forecast
    scenario: Forecast


def what_if(
    start: StartState,
    scenario: Mapping[str, StationSpec],
    *,
    seed: int,
    name: str = "scenario",
    hours: int = 8,
    replications: int = 8,
    workers: int = 1,
) -> WhatIf:
    """Run the baseline and `scenario` (the station specs from now on) from `start`."""
    check_hours(hours)
    base_runs = run_replications(ForecastJob(start, seed, hours), replications, workers)
    scenario_runs = run_replications(
        ForecastJob(start, seed, hours, stations=scenario), replications, workers
    )
    draws = tuple(f"{seed}/fork@{start.now.isoformat()}/{r}" for r in range(replications))
    yards = tuple(sorted(base_runs[0]))
    comparison = compare_runs(
        Run(BASELINE, replication_values(base_runs), draws, yards=yards),
        [Run(name, replication_values(scenario_runs), draws, yards=yards)],
    )
    return WhatIf(
        comparison,
        summarise(start.now, hours, base_runs),
        summarise(start.now, hours, scenario_runs),
    )


def replication_values(runs: Sequence[dict[str, YardOutcome]]) -> ReplicationValues:
    """Per scope and figure, one value per replication (None: the replication had none)."""
    values: ReplicationValues = {}
    for run in runs:
        scopes = {**run, CORRIDOR_SCOPE: _corridor(run.values())}
        for scope, figures in scopes.items():
            for kpi, value in _figures(figures).items():
                values.setdefault(scope, {}).setdefault(kpi, []).append(value)
    return values


def _figures(outcome: YardOutcome) -> dict[str, float | None]:
    return {
        "gate_queue.mean": _mean(outcome.hourly["gate_queue"]),
        "turnaround_min.mean": _mean(outcome.hourly["turnaround_min"]),
        "plugs_in_use.mean": _mean(outcome.hourly["plugs_in_use"]),
        "boxes_over_24h": float(outcome.boxes_over_24h),
        "trains_late": float(sum(outcome.trains_late.values())),
    }


def _corridor(yards: Iterable[YardOutcome]) -> YardOutcome:
    outcomes = list(yards)
    hours = len(outcomes[0].hourly["gate_queue"])
    summed = {
        name: [sum(yard.hourly[name][h] for yard in outcomes) for h in range(hours)]
        for name in ("gate_queue", "plugs_in_use")
    }
    turnaround = [
        _mean([yard.hourly["turnaround_min"][h] for yard in outcomes]) or math.nan
        for h in range(hours)
    ]
    late = {
        f"{index}/{train}": was
        for index, yard in enumerate(outcomes)
        for train, was in yard.trains_late.items()
    }
    return YardOutcome(
        {**summed, "turnaround_min": turnaround},
        sum(yard.boxes_over_24h for yard in outcomes),
        late,
    )


def _mean(values: Sequence[float]) -> float | None:
    known = [value for value in values if not math.isnan(value)]
    return sum(known) / len(known) if known else None

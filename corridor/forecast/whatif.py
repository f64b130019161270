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
now (the generated traffic announces them). Trains already announced are held with the
`holds` lever (`corridor.forecast.holds`): both sides measure the held trains (when they left
against the timetable, boxes and TEU taken, boxes left behind), compared in the yard's scope
as `held.<train>.<figure>` and summarised per train in `WhatIf.held`.
"""

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from corridor.compare.report import Comparison, compare_runs
from corridor.compare.runs import CORRIDOR_SCOPE, ReplicationValues, Run
from corridor.engine.clock import to_minutes
from corridor.engine.twin import Twin
from corridor.forecast import holds as holding
from corridor.forecast.bands import Forecast, summarise
from corridor.forecast.forking import forked
from corridor.forecast.holds import HeldOutcome, TrainHold
from corridor.forecast.measures import YardOutcome
from corridor.forecast.run import ForecastJob, check_hours, reseeded, run_one
from corridor.forecast.start_state import StartState
from stations.spec import StationSpec

BASELINE = "baseline (live yard)"


Replication = tuple[dict[str, YardOutcome], list[HeldOutcome]]


@dataclass(frozen=True, slots=True)
class WhatIf:
    """The comparison, both sides' forecasts, and the held trains (one entry per train and
    side, each with one `HeldOutcome` per replication)."""

    comparison: Comparison
    baseline: Forecast
    scenario: Forecast
    held: dict[str, list[list[HeldOutcome]]] = field(default_factory=dict)


def what_if(
    start: StartState,
    scenario: Mapping[str, StationSpec],
    *,
    seed: int,
    name: str = "scenario",
    hours: int = 8,
    replications: int = 8,
    workers: int = 1,
    holds: Sequence[TrainHold] = (),
) -> WhatIf:
    """Run the baseline and `scenario` (the station specs from now on, the `holds` at now)
    from `start`."""
    check_hours(hours)
    if replications < 2:
        raise ValueError(f"replications: expected at least 2, got {replications}")
    job = ForecastJob(start, seed, hours)
    base_runs = run_side(job, holds, False, replications, workers)
    scenario_job = ForecastJob(start, seed, hours, stations=scenario)
    scenario_runs = run_side(scenario_job, holds, True, replications, workers)
    draws = tuple(f"{seed}/fork@{start.now.isoformat()}/{r}" for r in range(replications))
    yards = tuple(sorted(base_runs[0][0]))
    comparison = compare_runs(
        Run(BASELINE, replication_values(base_runs), draws, yards=yards),
        [Run(name, replication_values(scenario_runs), draws, yards=yards)],
    )
    return WhatIf(
        comparison,
        summarise(start.now, hours, [outcomes for outcomes, _ in base_runs]),
        summarise(start.now, hours, [outcomes for outcomes, _ in scenario_runs]),
        {"baseline": _by_train(base_runs), "scenario": _by_train(scenario_runs)},
    )


def run_side(
    job: ForecastJob, holds: Sequence[TrainHold], hold: bool, replications: int, workers: int
) -> list[Replication]:
    """One side's replications (`corridor.forecast.run.run_replications`, plus the held trains:
    held when `hold`, measured either way). A hold that names no train due at now raises
    `stations.holding.HoldError` here, in this process, before any child is forked."""

    def one(twin: Twin, replication: int) -> Replication:
        resolved = holding.resolve(twin, holds)
        held = holding.apply(twin, resolved) if hold else holding.unheld(twin, resolved)
        outcomes = run_one(job, twin, replication)
        found = [
            holding.outcome(twin, h.yard, moved) for h, moved in zip(resolved, held, strict=True)
        ]
        if hold:
            assert twin.epoch is not None
            begin = to_minutes(job.start.now, twin.epoch)
            end = to_minutes(job.start.now + timedelta(hours=job.hours), twin.epoch)
            for h, moved, train in zip(resolved, held, found, strict=True):
                holding.late_against_timetable(
                    outcomes[h.yard].trains_late, moved, train, begin, end
                )
        return outcomes, found

    if workers <= 1:
        return [one(job.start.fork(r, job.stations), r) for r in range(replications)]
    base = job.start.fork(0, job.stations)
    holding.resolve(base, holds)  # a bad hold fails here, with its own message
    return forked(lambda r: one(reseeded(base, r), r), replications, workers)


def _by_train(runs: Sequence[Replication]) -> list[list[HeldOutcome]]:
    """Per held train, its outcome in each replication."""
    return [list(per_train) for per_train in zip(*(found for _, found in runs), strict=True)]


def replication_values(runs: Sequence[Replication]) -> ReplicationValues:
    """Per scope and figure, one value per replication (None: the replication had none); a
    held train's figures in its yard's scope, as `held.<train>.<figure>`."""
    values: ReplicationValues = {}
    for run, held in runs:
        scopes = {**run, CORRIDOR_SCOPE: _corridor(run.values())}
        for scope, figures in scopes.items():
            for kpi, value in _figures(figures).items():
                values.setdefault(scope, {}).setdefault(kpi, []).append(value)
        for train in held:
            for kpi, value in train.figures().items():
                name = f"held.{train.train_id}.{kpi}"
                values.setdefault(train.yard, {}).setdefault(name, []).append(value)
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

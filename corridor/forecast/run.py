"""The next-shift forecast: R replications of the next H hours from the yards as they are now.

Each replication forks the start state (`corridor.forecast.start_state`) with its own random
streams, feeds it the generated traffic of its own streams (`corridor.forecast.future`), runs
the twin to the end of the horizon and measures it (`corridor.forecast.measures`); the
replications' figures are then summarised as bands (`corridor.forecast.bands`). Pure: no
Kafka, no SQL; the same start, seed and replications give the same forecast.

With `workers` = 1 each replication forks the start state itself (a replayed start replays
its history once per replication). With more, the start is forked once and the process is
forked (`os.fork`, `corridor.forecast.forking`) for each replication, up to `workers` at a
time: every child inherits the twin at now, copy-on-write, and re-seeds it. Only a process
without threads may do that (a bench, a worker of the API's job pool), never the API's own.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from corridor.contract.events import same_instant_rank
from corridor.engine.clock import to_minutes
from corridor.engine.twin import Twin
from corridor.forecast.bands import Forecast, summarise
from corridor.forecast.forking import forked
from corridor.forecast.future import future_events
from corridor.forecast.measures import (
    YardOutcome,
    boxes_over_24h,
    boxes_over_24h_by_hour,
    hour_edges,
    hourly,
    trains_due,
    trains_late,
)
from corridor.forecast.start_state import StartState
from stations.spec import StationSpec

DEFAULT_HOURS = 8
DEFAULT_REPLICATIONS = 8
MAX_HOURS = 24
SETTLE = timedelta(hours=4)
"""Run past the horizon so that trucks arriving in its last hour leave and count."""


@dataclass(frozen=True, slots=True)
class ForecastJob:
    """What every replication of one forecast shares."""

    start: StartState
    seed: int
    hours: int
    stations: Mapping[str, StationSpec] | None = None  # a what-if's scenario, from now on


def check_hours(hours: int) -> int:
    """The horizon, refused outside 1..MAX_HOURS."""
    if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= MAX_HOURS:
        raise ValueError(f"hours: expected a whole number from 1 to {MAX_HOURS}, got {hours!r}")
    return hours


def forecast(
    start: StartState,
    *,
    seed: int,
    hours: int = DEFAULT_HOURS,
    replications: int = DEFAULT_REPLICATIONS,
    workers: int = 1,
) -> Forecast:
    """The forecast of the next `hours` from `start`, over `replications` replications."""
    job = ForecastJob(start, seed, check_hours(hours))
    outcomes = run_replications(job, replications, workers)
    return summarise(start.now, hours, outcomes)


def run_replications(
    job: ForecastJob, replications: int, workers: int = 1
) -> list[dict[str, YardOutcome]]:
    """Every replication's outcome per yard, in replication order."""
    if replications < 2:
        raise ValueError(f"replications: expected at least 2, got {replications}")
    if workers <= 1:
        return [run_one(job, job.start.fork(r, job.stations), r) for r in range(replications)]
    base = job.start.fork(0, job.stations)
    return forked(lambda r: run_one(job, reseeded(base, r), r), replications, workers)


def reseeded(twin: Twin, replication: int) -> Twin:
    """The twin (a forked child's copy) drawing from replication `replication` from now on."""
    for yard in twin.yards.values():
        yard.reseed(twin.seed, replication)
    return twin


def run_one(job: ForecastJob, twin: Twin, replication: int) -> dict[str, YardOutcome]:
    """Run one replication's twin, forked at now, through the horizon; measure each yard."""
    start = job.start
    until = start.now + timedelta(hours=job.hours)
    events = future_events(
        twin,
        seed=job.seed,
        now=start.now,
        until=until,
        replication=replication,
        claimed_pickups=start.claimed_pickups,
    )
    events.sort(key=same_instant_rank)
    events.sort(key=lambda event: event.ts)
    for event in events:
        twin.apply(event)
    twin.advance_to(until)
    assert twin.epoch is not None
    begin, end = to_minutes(start.now, twin.epoch), to_minutes(until, twin.epoch)
    over_24h = {sid: boxes_over_24h(yard, end) for sid, yard in twin.yards.items()}
    twin.advance_to(until + SETTLE)
    edges = hour_edges(begin, job.hours)
    return {
        sid: YardOutcome(
            hourly(yard, edges),
            over_24h[sid],
            trains_late(yard, begin, end),
            boxes_over_24h_by_hour(yard, edges),
            trains_due(yard, begin, end),
        )
        for sid, yard in twin.yards.items()
    }

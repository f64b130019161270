"""Jobs: "replay this log under this scenario (and seed, until) into a report", written once.

`replay_log` is the whole what-if job: read an event log (a line that is not a valid event is
kept as a `LogError`, counted in the report as a "malformed line", never dropped silently),
replay it through the twin (`corridor.engine.twin.replay`) and compute its `kpis.json` report
over `[epoch, until)`, `until` being the last event's time unless given. `corridor replay`
writes the result to a directory (`corridor.cli.output`), and the API's replay jobs run the same
function in a process pool (`api.replay_job`), so a planner gets the same bytes from either.
`replay_events` is the same job for events already in memory (`corridor simulate`).

`run_replication` is one replication of either (`SimulateJob`: generate the traffic and replay
it; `ReplayJob`: replay a log): a top-level function of one picklable argument, which is what a
process pool and a Dask cluster both run (`corridor.experiments`). Replication r draws every
random number from its own streams (`stations.random_streams`); replication 0 without warm-up
is the single run, byte for byte.

A pure function of its arguments: the same log, scenario, seed and `until` give a
byte-identical report (`corridor.kpis.report.dumps_report`).
"""

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from corridor.contract import eventlog
from corridor.contract.events import Event
from corridor.engine.clock import to_minutes
from corridor.engine.twin import Progress, Twin, replay
from corridor.engine.yard_order import OutOfOrderError
from corridor.kpis.record_frames import record_frames
from corridor.kpis.report import kpi_report
from corridor.kpis.result import InputInfo, KpiReport
from corridor.kpis.run_info import generated_input, log_input, scenario_info
from corridor.kpis.warmup import drop_warmup
from corridor.scenario import Scenario
from corridor.traffic.generator import generate

ProgressFor = Callable[[int | None], Progress | None]
"""Given the number of events about to be replayed (None: a streamed log, not known), where to
report progress (None: nowhere)."""

DEFAULT_SEED = 2026
MALFORMED = "malformed line"
"""The rejection reason a log line that is not a valid event is counted under."""


class JobError(ValueError):
    """The job cannot run on this input (an unreadable log, a log without any valid event)."""


@dataclass(frozen=True, slots=True)
class JobResult:
    """A finished job: the report, the record tables it was computed from, what was rejected."""

    report: KpiReport
    frames: dict[str, pd.DataFrame]
    events: int  # valid events replayed
    rejections: list[eventlog.LogError] = field(default_factory=list)  # lines that were not
    epoch: datetime | None = None  # the twin's epoch: Minutes 0 of the record tables


@dataclass(frozen=True, slots=True)
class SimulateJob:
    """One replication of `corridor simulate`: `days` of generated traffic from `start`."""

    scenario: Scenario
    seed: int
    start: datetime
    days: int
    replication: int = 0
    warmup: timedelta = timedelta(0)
    keep_frames: bool = False  # send the record tables back (they are large; one run's do)


@dataclass(frozen=True, slots=True)
class ReplayJob:
    """One replication of `corridor replay`: the log at `log`, read where the job runs."""

    scenario: Scenario
    log: Path
    seed: int | None = None
    until: datetime | None = None
    replication: int = 0
    warmup: timedelta = timedelta(0)
    keep_frames: bool = False


def run_replication(job: SimulateJob | ReplayJob) -> JobResult:
    """Run one replication job into its result (the record tables only if it keeps them)."""
    if isinstance(job, ReplayJob):
        result = replay_log(
            job.log,
            job.scenario,
            seed=job.seed,
            until=job.until,
            warmup=job.warmup,
            replication=job.replication,
        )
    else:
        events = generate(
            job.scenario.stations,
            days=job.days,
            seed=job.seed,
            start=job.start,
            replication=job.replication,
        )
        result = replay_events(
            events,
            job.scenario,
            source=simulation_input(job.scenario, job.seed, job.days, job.start, job.replication),
            seed=job.seed,
            start=job.start,
            until=job.start + timedelta(days=job.days),
            warmup=job.warmup,
            replication=job.replication,
        )
    if job.keep_frames:
        return result
    return dataclasses.replace(result, frames={})


def simulation_input(
    scenario: Scenario, seed: int, days: int, start: datetime, replication: int = 0
) -> InputInfo:
    """`run.input` of generated traffic: the parameters it was generated with. Replication r > 0
    generates other events, so its index is one of them; replication 0's digest is the single
    run's."""
    parameters: dict[str, object] = {
        "mode": "realistic",
        "days": days,
        "seed": seed,
        "start": start.isoformat(),
        "stations": scenario_info(scenario.name, scenario.stations)["digest"],
    }
    if replication:
        parameters["replication"] = replication
    return generated_input(parameters)


def choose_seed(seed: int | None, scenario: Scenario) -> int:
    """The seed given, else the scenario's, else `DEFAULT_SEED`."""
    if seed is not None:
        return seed
    return scenario.seed if scenario.seed is not None else DEFAULT_SEED


def replay_log(
    path: Path,
    scenario: Scenario,
    *,
    seed: int | None = None,
    until: datetime | None = None,
    progress: ProgressFor | None = None,
    warmup: timedelta = timedelta(0),
    replication: int = 0,
) -> JobResult:
    """Replay the log at `path` under `scenario` into a report.

    The log is streamed (read line by line or row group by row group, each yard ordered as it
    goes: `corridor.engine.yard_order`); a log not in time order within a day is read again
    and sorted whole in memory, with the same result. Raises `JobError` (the reason in its
    message) when the log cannot be read or holds no valid event.
    """
    rejections: list[eventlog.LogError] = []
    try:
        result = _replay_events(
            _valid_events(path, rejections), scenario, source=log_input(path), seed=seed,
            until=until, progress=progress, malformed=lambda: len(rejections), warmup=warmup,
            replication=replication,
        )  # fmt: skip
    except OutOfOrderError:
        events, rejections = read_events(path)
        result = _replay_events(
            events, scenario, source=log_input(path), seed=seed, until=until,
            progress=progress, malformed=lambda: len(rejections), warmup=warmup,
            replication=replication,
        )  # fmt: skip
    return dataclasses.replace(result, rejections=rejections)


def replay_events(
    events: Iterable[Event],
    scenario: Scenario,
    *,
    source: InputInfo,
    seed: int | None = None,
    start: datetime | None = None,
    until: datetime | None = None,
    progress: ProgressFor | None = None,
    malformed: int | None = None,
    warmup: timedelta = timedelta(0),
    replication: int = 0,
) -> JobResult:
    """Replay events into a report over `[start + warmup, until)`: by default from the twin's
    epoch to the last event, and records that started in the warm-up dropped
    (`corridor.kpis.warmup`). Events read from a log pass its `malformed` line count, which the
    report's rejections then show (0 included); generated events pass None. `source` pins where
    the events came from in the report's `run.input` (`corridor.kpis.run_info`). A sequence is
    sorted whole; an iterator (the generator's) is streamed in time order, never held whole
    (`corridor.engine.twin.replay`)."""
    lines = None if malformed is None else (lambda: malformed)
    return _replay_events(
        events, scenario, source=source, seed=seed, start=start, until=until,
        progress=progress, malformed=lines, warmup=warmup, replication=replication,
    )  # fmt: skip


def _replay_events(
    events: Iterable[Event],
    scenario: Scenario,
    *,
    source: InputInfo,
    seed: int | None = None,
    start: datetime | None = None,
    until: datetime | None = None,
    progress: ProgressFor | None = None,
    malformed: Callable[[], int] | None = None,
    warmup: timedelta = timedelta(0),
    replication: int = 0,
) -> JobResult:
    """`replay_events`, the malformed line count asked for once a streamed log was read."""
    if warmup < timedelta(0):
        raise JobError(f"the warm-up must not be negative, got {warmup}")
    run_seed = choose_seed(seed, scenario)
    total = len(events) if isinstance(events, Sequence) else None
    report_to = progress(total) if progress is not None else None
    tally = _Tally(events)
    twin = replay(
        events if isinstance(events, Sequence) else tally,
        scenario.stations,
        run_seed,
        until=until,
        progress=report_to,
        replication=replication,
    )
    if isinstance(events, Sequence):
        tally.count, tally.newest = len(events), max((event.ts for event in events), default=None)
    lines = malformed() if malformed is not None else None
    if tally.newest is None:
        if lines is not None:
            raise JobError(f"the log has no valid event ({lines} rejected lines)")
        raise JobError("no events to replay")
    if lines is not None:
        twin.counts.rejected[MALFORMED] += lines
    end = until if until is not None else tally.newest
    return twin_result(
        twin,
        scenario,
        seed=run_seed,
        source=source,
        period=(start, end),
        warmup=warmup,
        events=tally.count,
    )


def twin_result(
    twin: Twin,
    scenario: Scenario,
    *,
    seed: int,
    source: InputInfo,
    period: tuple[datetime | None, datetime],
    warmup: timedelta = timedelta(0),
    events: int = 0,
) -> JobResult:
    """The report and record frames of a twin that has run (`replay`, or a snapshot restored
    and fed the rest: `corridor.engine.snapshots`), over `period` (its start None: the epoch)."""
    epoch = twin.epoch
    assert epoch is not None  # set by the first event
    frames = record_frames(twin)
    start, end = period
    report = _report(twin, frames, scenario, seed, source, (start or epoch, end), warmup)
    return JobResult(report, frames, events, epoch=epoch)


class _Tally:
    """Counts the events it passes on and keeps the latest time (a streamed log's end)."""

    def __init__(self, events: Iterable[Event]) -> None:
        self._events = events
        self.count = 0
        self.newest: datetime | None = None

    def __iter__(self) -> Iterator[Event]:
        newest = self.newest
        for count, event in enumerate(self._events, 1):
            if newest is None or event.ts > newest:
                newest = self.newest = event.ts
            self.count = count
            yield event


def _valid_events(path: Path, rejections: list[eventlog.LogError]) -> Iterator[Event]:
    """The log's valid events as it is read; its other lines go to `rejections`."""
    try:
        for item in eventlog.read_log(Path(path)):
            if isinstance(item, eventlog.LogError):
                rejections.append(item)
            else:
                yield item
    except eventlog.LogFileError as error:
        raise JobError(f"the log cannot be read: {error.reason}") from None
    except ValueError as error:  # a file name that names no log format
        raise JobError(str(error)) from None


def read_events(path: Path) -> tuple[list[Event], list[eventlog.LogError]]:
    """The valid events of a log, and its lines that were not (in file order)."""
    rejections: list[eventlog.LogError] = []
    return list(_valid_events(path, rejections)), rejections


def _report(
    twin: Twin,
    frames: dict[str, pd.DataFrame],
    scenario: Scenario,
    seed: int,
    source: InputInfo,
    period: tuple[datetime, datetime],
    warmup: timedelta,
) -> KpiReport:
    epoch = twin.epoch
    assert epoch is not None
    start, until = period[0] + warmup, period[1]
    begin = to_minutes(start, epoch)
    if warmup:
        if start >= until:
            raise JobError(
                f"the warm-up ({warmup}) leaves nothing to report: it ends at "
                f"{start.isoformat()}, the run at {until.isoformat()}"
            )
        frames = drop_warmup(frames, begin)
    return kpi_report(
        frames,
        start=begin,
        end=to_minutes(until, epoch),
        stations=scenario.stations,
        scenario=scenario_info(scenario.name, scenario.stations),
        seed=seed,
        source=source,
        epoch=epoch,
        event_counts=twin.counts.as_dict(),
    )

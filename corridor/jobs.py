"""Jobs: "replay this log under this scenario (and seed, until) into a report", written once.

`replay_log` is the whole what-if job: read an event log (a line that is not a valid event is
kept as a `LogError`, counted in the report as a "malformed line", never dropped silently),
replay it through the twin (`corridor.engine.twin.replay`) and compute its `kpis.json` report
over `[epoch, until)`, `until` being the last event's time unless given. `corridor replay`
writes the result to a directory (`corridor.cli.output`), and the API's replay jobs run the same
function in a process pool (`api.replay_job`), so a planner gets the same bytes from either.
`replay_events` is the same job for events already in memory (`corridor simulate`).

A pure function of its arguments: the same log, scenario, seed and `until` give a
byte-identical report (`corridor.kpis.report.dumps_report`).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from corridor.contract import eventlog
from corridor.contract.events import Event
from corridor.engine.clock import to_minutes
from corridor.engine.twin import Progress, Twin, replay
from corridor.kpis.record_frames import record_frames
from corridor.kpis.report import kpi_report
from corridor.kpis.result import InputInfo, KpiReport
from corridor.kpis.run_info import log_input, scenario_info
from corridor.scenario import Scenario

ProgressFor = Callable[[int], Progress | None]
"""Given the number of events about to be replayed, where to report progress (None: nowhere)."""

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
) -> JobResult:
    """Replay the log at `path` under `scenario` into a report.

    Raises `JobError` (the reason in its message) when the log cannot be read or holds no
    valid event.
    """
    events, rejections = read_events(path)
    if not events:
        raise JobError(f"the log has no valid event ({len(rejections)} rejected lines)")
    malformed = len(rejections)
    result = replay_events(
        events,
        scenario,
        source=log_input(path),
        seed=seed,
        until=until,
        progress=progress,
        malformed=malformed,
    )
    return JobResult(result.report, result.frames, result.events, rejections)


def replay_events(
    events: Sequence[Event],
    scenario: Scenario,
    *,
    source: InputInfo,
    seed: int | None = None,
    start: datetime | None = None,
    until: datetime | None = None,
    progress: ProgressFor | None = None,
    malformed: int | None = None,
) -> JobResult:
    """Replay events into a report over `[start, until)`: by default from the twin's epoch to
    the last event. Events read from a log pass its `malformed` line count, which the report's
    rejections then show (0 included); generated events pass None. `source` pins where the
    events came from in the report's `run.input` (`corridor.kpis.run_info`)."""
    if not events:
        raise JobError("no events to replay")
    run_seed = choose_seed(seed, scenario)
    report_to = progress(len(events)) if progress is not None else None
    twin = replay(events, scenario.stations, run_seed, until=until, progress=report_to)
    if malformed is not None:
        twin.counts.rejected[MALFORMED] += malformed
    epoch = twin.epoch
    assert epoch is not None  # set by the first event
    end = until if until is not None else max(event.ts for event in events)
    frames = record_frames(twin)
    report = _report(twin, frames, scenario, run_seed, source, (start or epoch, end))
    return JobResult(report, frames, len(events))


def read_events(path: Path) -> tuple[list[Event], list[eventlog.LogError]]:
    """The valid events of a log, and its lines that were not (in file order)."""
    events: list[Event] = []
    rejections: list[eventlog.LogError] = []
    try:
        for item in eventlog.read_log(Path(path)):
            if isinstance(item, eventlog.LogError):
                rejections.append(item)
            else:
                events.append(item)
    except eventlog.LogFileError as error:
        raise JobError(f"the log cannot be read: {error.reason}") from None
    except ValueError as error:  # a file name that names no log format
        raise JobError(str(error)) from None
    return events, rejections


def _report(
    twin: Twin,
    frames: dict[str, pd.DataFrame],
    scenario: Scenario,
    seed: int,
    source: InputInfo,
    period: tuple[datetime, datetime],
) -> KpiReport:
    epoch = twin.epoch
    assert epoch is not None
    start, until = period
    return kpi_report(
        frames,
        start=to_minutes(start, epoch),
        end=to_minutes(until, epoch),
        stations=scenario.stations,
        scenario=scenario_info(scenario.name, scenario.stations),
        seed=seed,
        source=source,
        epoch=epoch,
        event_counts=twin.counts.as_dict(),
    )

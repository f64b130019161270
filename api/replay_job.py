"""The what-if job itself: replay an event log with a seed and scenario, and compute its KPIs.

A pure function of its arguments (a file path, a seed, a scenario table), run in a worker
process so a long replay never holds up the API. The result is deterministic: the same log,
seed and scenario give the byte-identical report (`corridor.kpis.report.dumps_report`). Lines of the
log that are not valid events are counted and listed (the first hundred), never dropped
silently.
"""

import json
from pathlib import Path
from typing import Any

from corridor.contract import eventlog
from corridor.engine.clock import to_minutes
from corridor.engine.twin import replay
from corridor.kpis.record_frames import record_frames
from corridor.kpis.report import dumps_report, kpi_report
from corridor.scenario import Scenario, parse_scenario

DEFAULT_SEED = 2026
LISTED_REJECTIONS = 100
LOG_SUFFIXES = (".jsonl", ".jsonl.gz", ".parquet", ".json")
"""The event-log formats `corridor.contract.eventlog` reads, by file name ending (.json: DCSA)."""


def check_scenario(table: dict[str, Any]) -> Scenario:
    """Validate a scenario table (the TOML shape, as JSON); errors name the key."""
    return parse_scenario(table, name="upload")


def log_suffix(filename: str) -> str | None:
    """The log format of an uploaded file, from its name; None when it is not a log."""
    lowered = filename.lower()
    return next((suffix for suffix in LOG_SUFFIXES if lowered.endswith(suffix)), None)


def run_replay(path: str, seed: int | None, scenario: dict[str, Any]) -> dict[str, Any]:
    """Replay the log at `path`; returns the kpis.json report and what was rejected.

    Raises ValueError (with the reason) for a log with no valid event or a bad scenario.
    """
    chosen = check_scenario(scenario)
    run_seed = (
        seed if seed is not None else (chosen.seed if chosen.seed is not None else DEFAULT_SEED)
    )
    events, rejections = [], []
    try:
        for item in eventlog.read_log(Path(path)):
            if isinstance(item, eventlog.LogError):
                rejections.append(f"line {item.line}: {item.error}")
            else:
                events.append(item)
    except eventlog.LogFileError as error:
        raise ValueError(f"the log cannot be read: {error.reason}") from None
    if not events:
        raise ValueError(f"the log has no valid event ({len(rejections)} rejected lines)")
    twin = replay(events, chosen.stations, run_seed)
    twin.counts.rejected["malformed line"] += len(rejections)
    epoch = twin.epoch
    if epoch is None:
        raise ValueError("the replay set no epoch")
    until = max(event.ts for event in events)
    report = kpi_report(
        record_frames(twin),
        start=0.0,
        end=to_minutes(until, epoch),
        stations=chosen.stations,
        reefer_readings=twin.reefer_readings(),
        seed=run_seed,
        epoch=epoch,
        event_counts=twin.counts.as_dict(),
    )
    return {
        "report": json.loads(dumps_report(report)),
        "events": len(events),
        "rejected_lines": len(rejections),
        "rejections": rejections[:LISTED_REJECTIONS],
    }

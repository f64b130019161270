"""The API's what-if job: `corridor.jobs.replay_log`, with its result as the job row stores it.

The job itself (read the log, replay it with a seed and scenario, compute its KPIs) is the core's
`corridor.jobs.replay_log`, the same function `corridor replay` runs; this module only checks
the uploaded scenario and turns the result into JSON for the `replay_jobs` row. It runs in a
worker process (`api.replay_runner`), so a long replay never holds up the API. The result is
deterministic: the same log, seed and scenario give the same report as `corridor replay`. Lines
of the log that are not valid events are counted and listed (the first hundred), never dropped
silently.
"""

import json
from pathlib import Path
from typing import Any

from corridor import jobs
from corridor.kpis.report import dumps_report
from corridor.scenario import Scenario, parse_scenario

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
    result = jobs.replay_log(Path(path), check_scenario(scenario), seed=seed)
    return {
        "report": json.loads(dumps_report(result.report)),
        "events": result.events,
        "rejected_lines": len(result.rejections),
        "rejections": [str(rejection) for rejection in result.rejections[:LISTED_REJECTIONS]],
    }

"""A replicated run: N replications of one job, the replicated report, and its output files.

`replicate` runs replications 0 .. N-1 of a job (`corridor.jobs.SimulateJob` or `ReplayJob`)
on an executor and summarises them (`corridor.experiments.intervals`). Only replication 0
sends its record tables back: they are the run's record tables, as a single run's are, and
the other replications' would cost memory and pickling for nothing the report needs.
"""

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corridor.experiments.executors import ON_ALL_CORES, Executor, Job, run_jobs
from corridor.experiments.intervals import replicated_report
from corridor.experiments.table import write_table
from corridor.jobs import JobResult
from corridor.kpis.record_frames import write_record_tables
from corridor.kpis.report import dumps_report


@dataclass(frozen=True, slots=True)
class ReplicatedRun:
    """The replications' results (replication order; the first holds the record tables) and
    the replicated `kpis.json`."""

    results: list[JobResult]
    report: dict[str, Any]


def replicate(
    job: Job,
    replications: int,
    executor: Executor = ON_ALL_CORES,
    *,
    done: Callable[[int], None] | None = None,
) -> ReplicatedRun:
    """Run replications 0 .. `replications` - 1 of `job` and summarise them (`done`: how many
    replications are finished, for a progress bar)."""
    if replications < 1:
        raise ValueError(f"replications: expected at least 1, got {replications}")
    jobs = [
        dataclasses.replace(job, replication=index, keep_frames=index == 0)
        for index in range(replications)
    ]
    results = run_jobs(jobs, executor, done=done)
    report = replicated_report([result.report for result in results], job.warmup)
    return ReplicatedRun(results, report)


def write_replicated(run: ReplicatedRun, out: Path) -> None:
    """Write `kpis.json`, `replications.parquet` and replication 0's record tables into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "kpis.json").write_bytes(dumps_report(run.report))
    write_table([result.report for result in run.results], out)
    first = run.results[0]
    assert first.epoch is not None  # every job's twin has applied an event
    write_record_tables(first.frames, first.epoch, out)

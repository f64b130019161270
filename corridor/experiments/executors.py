"""Where replications run: in this process, on the machine's cores, or on a Dask cluster.

Every executor runs the same job function, `corridor.jobs.run_replication`, on picklable jobs
and returns the results in job order, so where the work ran never changes a byte of the report.

- `processes` (the default): a `ProcessPoolExecutor` with one worker per core (at most one per
  job). Workers start from a fork server that has already imported the twin, so a worker costs
  a fork, not a second import of pandas; a fork server, not a plain fork, because a process with
  threads (the API's) must not be forked. `workers=1` runs the jobs one after another here.
- `dask`: an existing `dask.distributed` cluster, by its scheduler address
  (`tcp://host:8786`); install the `[distributed]` extra. Each Dask worker needs the project
  installed, the station files of the scenario are carried in the job, but a replayed log is
  read where the job runs, so it must be at the same path on every worker (a shared file
  system) -- `docs/replications.md` shows how to start a cluster.
"""

import multiprocessing
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

from corridor.jobs import JobResult, ReplayJob, SimulateJob, run_replication
from corridor.runtime import tune_gc_for_a_long_lived_twin

ExecutorKind = Literal["processes", "dask"]
CONNECT_TIMEOUT_S = 10  # how long to wait for a Dask scheduler before saying it is not there
Job = SimulateJob | ReplayJob


@dataclass(frozen=True, slots=True)
class Executor:
    """Which executor runs the replications: processes (`workers`, default all cores) or Dask."""

    kind: ExecutorKind = "processes"
    workers: int | None = None  # processes: how many (default: the machine's cores)
    scheduler: str | None = None  # dask: the scheduler's address

    def __post_init__(self) -> None:
        if self.kind not in ("processes", "dask"):
            raise ValueError(f"executor: expected 'processes' or 'dask', got {self.kind!r}")
        if self.kind == "dask" and not self.scheduler:
            raise ValueError("executor dask: needs the scheduler's address (--scheduler)")
        if self.workers is not None and self.workers < 1:
            raise ValueError(f"workers: expected at least 1, got {self.workers}")


ON_ALL_CORES = Executor()
"""A process pool with one worker per core: the default executor."""


def run_jobs(
    jobs: Sequence[Job],
    executor: Executor = ON_ALL_CORES,
    *,
    done: Callable[[int], None] | None = None,
) -> list[JobResult]:
    """Run the jobs on the executor; the results in job order.

    `done` (a progress bar) is told how many results are in, in job order, as they arrive;
    on Dask it hears only the end.
    """
    if executor.kind == "dask":
        assert executor.scheduler is not None  # checked by Executor
        return _counted(run_on_dask(jobs, executor.scheduler), done)
    workers = min(executor.workers or os.cpu_count() or 1, len(jobs))
    if workers <= 1:
        return _counted((run_replication(job) for job in jobs), done)
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["corridor.jobs"])
    # each worker tunes its collector as the CLI tunes its own process (corridor.runtime)
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=tune_gc_for_a_long_lived_twin
    ) as pool:
        return _counted(pool.map(run_replication, jobs), done)


def _counted(results: Iterable[JobResult], done: Callable[[int], None] | None) -> list[JobResult]:
    collected: list[JobResult] = []
    for result in results:
        collected.append(result)
        if done is not None:
            done(len(collected))
    return collected


def run_on_dask(jobs: Sequence[Job], scheduler: str) -> list[JobResult]:
    """Run the jobs on the Dask cluster whose scheduler is at `scheduler`."""
    try:
        from dask.distributed import Client
    except ImportError:
        raise ValueError(
            "executor dask: dask.distributed is not installed "
            "(pip install 'corridor-twin[distributed]')"
        ) from None
    try:
        # distributed's Client is not annotated: Any, rather than an ignore on every call
        connect: Any = Client
        client = connect(scheduler, set_as_default=False, timeout=CONNECT_TIMEOUT_S)
    except OSError as error:  # refused, timed out, no such host
        raise ValueError(f"executor dask: no scheduler answers at {scheduler}: {error}") from None
    with client:
        futures = client.map(run_replication, list(jobs), pure=False)
        results: list[JobResult] = client.gather(futures)
    return results

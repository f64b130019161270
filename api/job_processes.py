"""The API's job processes (replays, what-ifs): spawned, and gone with the API process.

A `ProcessPoolExecutor`'s worker waits for its next job on a pipe whose writing end it holds
itself, so when the API process is killed (`kill -9`, the OOM killer) its workers wait for
ever: their memory held, and the pool's semaphores left in `/dev/shm`, which multiprocessing's
resource tracker removes only once every process sharing it has ended. So each worker watches
the API process (the sentinel a spawned child is given: a pipe the parent holds open, closed
by the kernel however the parent dies) and exits the moment it is gone, a job under way or
not: its result could not be stored any more, and the job's lease lets another API process
fail it (`api.store.job_leases`). The watch is a thread that only waits: declared fork-safe,
so the what-if's replications still fork from the job process (`corridor.forecast.forking`).
"""

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from corridor.forecast.forking import fork_safe
from corridor.runtime import orphan_watch


def job_pool(workers: int) -> ProcessPoolExecutor:
    """`workers` job processes, spawned (the API has threads: never fork), each gone with the
    API process."""
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(workers, mp_context=context, initializer=exit_with_parent)


def exit_with_parent() -> None:
    """In a spawned process: exit at once when the process that started it is gone (nothing of a
    job is stored by this process, so nothing is cleaned up)."""
    watch = orphan_watch("api-watch")
    if watch is not None:  # it only waits: the job's forked replications may run beside it
        fork_safe(watch).start()

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

A stopping API does not wait for a job either (`end_at_once`): a what-if, or the replay of a
long log, runs for minutes, and `ProcessPoolExecutor.shutdown` would hold the stop (a deploy,
Ctrl-C, a container's grace period) that long for an answer nobody asked for any more. Its
jobs are failed first, saying why (`api.store.job_leases.LeaseHeartbeat.abandon`), so the end
of their process is not taken for their outcome.

The watch is the sentinel, not Linux's parent-death signal (`corridor.runtime`): a pool starts
its processes from whichever thread submits (a request's worker thread, which ends when idle),
and that signal fires when the starting *thread* ends.
"""

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from contextlib import suppress

import psutil

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


def end_at_once(pool: ProcessPoolExecutor) -> None:
    """Close `pool` without waiting for its jobs: the queued ones are cancelled, the running
    ones end with their process, and so do the replications it forked (their futures fail with
    `BrokenProcessPool`: the caller fails the jobs with its own reason first)."""
    # `_processes` is private; Python 3.14's `kill_workers()` would still leave the forks running
    workers = [_process(pid) for pid in list(getattr(pool, "_processes", None) or {})]
    family = [worker for worker in workers if worker is not None]
    for worker in family:
        with suppress(psutil.NoSuchProcess):
            worker.suspend()  # stopped, it forks no new replication
    family += [fork for worker in list(family) for fork in _children(worker)]
    for member in family:
        with suppress(psutil.NoSuchProcess):
            member.kill()
    pool.shutdown(wait=True, cancel_futures=True)  # joins only what has ended already


def _process(pid: int) -> psutil.Process | None:
    try:
        return psutil.Process(pid)
    except psutil.NoSuchProcess:
        return None


def _children(process: psutil.Process) -> list[psutil.Process]:
    try:
        return process.children(recursive=True)
    except psutil.NoSuchProcess:
        return []

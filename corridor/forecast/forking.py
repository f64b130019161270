"""Run a function once per replication in forked child processes, `workers` at a time.

A twin cannot be copied (its SimPy processes are generators), but a process can: a child
made by `os.fork` holds the parent's twin as it was, copy-on-write, for the cost of the pages
it then touches. Each child runs its replication, pickles the result down a pipe and exits.
Each child is killed with the process that forked it (`corridor.runtime.killed_with_parent`, Linux),
so a forecast or a what-if cut short leaves no replication computing. Only a process without threads
may fork (a lock held by another thread would stay held in the child for ever): a bench or command,
or a worker of the API's job pool, never the API's own process. A thread that holds no lock while it
runs, only waiting in one system call (the job process's watch for the API's end,
`api.job_processes`), may be declared `fork_safe`.
"""

import os
import pickle
import select
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from corridor.runtime import killed_with_parent

Result = TypeVar("Result")
_FORK_SAFE: "weakref.WeakSet[threading.Thread]" = weakref.WeakSet()


class ChildFailedError(RuntimeError):
    """A forked replication died or raised; the message says which and why."""


def forked(run: Callable[[int], Result], replications: int, workers: int) -> list[Result]:
    """`run(r)` for r in 0..replications-1, each in a child process; results in order."""
    if any(thread not in _FORK_SAFE for thread in _other_threads()):
        raise RuntimeError("forked replications need a process without other threads")
    results: dict[int, Result] = {}
    running: dict[int, tuple[int, int]] = {}  # read end -> (replication, pid)
    chunks: dict[int, list[bytes]] = {}
    pending = list(range(replications))
    while pending or running:
        while pending and len(running) < workers:
            replication = pending.pop(0)
            read, pid = _spawn(run, replication)
            running[read] = (replication, pid)
            chunks[read] = []
        ready, _, _ = select.select(list(running), [], [])
        for read in ready:
            data = os.read(read, 1 << 20)
            if data:
                chunks[read].append(data)
                continue
            replication, pid = running.pop(read)
            os.close(read)
            os.waitpid(pid, 0)
            results[replication] = _unpickled(b"".join(chunks.pop(read)), replication)
    return [results[r] for r in range(replications)]


def fork_safe(thread: threading.Thread) -> threading.Thread:
    """Declare that `thread` holds no lock a forked child could inherit held (see the module
    docstring): `forked` then runs beside it."""
    _FORK_SAFE.add(thread)
    return thread


def _other_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread is not threading.current_thread()]


def _spawn(run: Callable[[int], Result], replication: int) -> tuple[int, int]:
    read, write = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the child: run, send, leave without running the parent's exit handlers
        killed_with_parent(parent)  # a parent killed or gone as an orphan takes it along
        os.close(read)
        code = 0
        try:
            payload = pickle.dumps(("ok", run(replication)))
        except BaseException as error:
            payload = pickle.dumps(("error", f"{type(error).__name__}: {error}"))
            code = 1
        try:  # a parent gone (terminated) breaks the pipe: leave all the same, never return
            with os.fdopen(write, "wb") as pipe:
                pipe.write(payload)
        finally:
            os._exit(code)
    os.close(write)
    return read, pid


def _unpickled(payload: bytes, replication: int) -> Any:
    if not payload:
        raise ChildFailedError(f"replication {replication}: the child died without an answer")
    status, value = pickle.loads(payload)
    if status != "ok":
        raise ChildFailedError(f"replication {replication}: {value}")
    return value

"""A worker started as someone's child stops when that parent is gone (`--exit-with-parent`).

A benchmark or a test that starts `corridor worker` and then dies (killed, crashed, interrupted
before its clean-up) would leave the worker running for ever, holding memory and a consumer
group's share. Linux's `PR_SET_PDEATHSIG` covers this only when the parent asks for it, and
only for the thread that forked; `corridor up` does ask (`corridor.cli.supervisor`). A worker
told that it runs as a child watches for itself instead: it notes the process that started it
as soon as it starts, and when that process is gone it stops as on SIGTERM, storing its state.

The parent is watched by its pid and start time (`psutil`, so a reused pid is not taken for
it), not by `os.getppid()` changing: on these machines `getppid()` was seen to answer 1 in a
worker whose parent was alive (after the store was opened; cause unknown).
"""

import logging
import os
import threading

import psutil

log = logging.getLogger(__name__)

CHECK_EVERY_S = 1.0


def starting_process() -> psutil.Process:
    """The process that started this one (call it first thing)."""
    return psutil.Process(os.getppid())


def stop_with_parent(
    stop: threading.Event, parent: psutil.Process, *, every_s: float = CHECK_EVERY_S
) -> threading.Thread:
    """Set `stop` once `parent` is gone (ended, or a zombie); the watching thread."""

    def watch() -> None:
        while not stop.wait(every_s):
            if not alive(parent):
                log.warning("parent process %d is gone: finishing the current batch", parent.pid)
                stop.set()

    thread = threading.Thread(target=watch, name="parent-watch", daemon=True)
    thread.start()
    return thread


def alive(process: psutil.Process) -> bool:
    """Whether the process runs (the same one: `is_running` checks its start time)."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False

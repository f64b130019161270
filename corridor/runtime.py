"""Process settings for a long-lived twin (a replay, a simulation, the worker), and the watches
that end a helper process with the process that started it (spawned: `orphan_watch`; forked:
`killed_with_parent`)."""

import ctypes
import gc
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import wait
from typing import Any

GC_THRESHOLDS = (100_000, 1_000, 1_000)


def tune_gc_for_a_long_lived_twin() -> None:
    """Collect garbage cycles rarely: for a twin's own process, not for a library caller.

    A twin keeps millions of long-lived objects (records, open boxes, the accepted ids), and
    the default thresholds (700 allocations) make the cyclic collector rescan them over and
    over. The twin's hot path makes no reference cycles (its actors and events are freed by
    reference counting; `tests/test_engine_garbage.py` fails if a replay leaves cycles), so the
    young generation is collected every 100,000 allocations and the older ones almost never.
    """
    gc.set_threshold(*GC_THRESHOLDS)


EXIT_ORPHANED = 70  # a spawned process's exit code when the process that spawned it went first


def orphan_watch(
    name: str, before_exit: Callable[[], None] = lambda: None
) -> threading.Thread | None:
    """A daemon thread, not yet started, that ends this process (`EXIT_ORPHANED`, after
    `before_exit`, with no other clean-up) the moment the process that spawned it is gone; None
    in a process multiprocessing did not spawn.

    It waits on the sentinel a spawned child is given: a pipe the parent holds open, closed by
    the kernel however the parent dies (`kill -9`, the OOM killer), so the child neither waits
    for work that cannot come nor finishes work nobody can store. The thread only waits and
    holds no lock (so a caller may declare it fork-safe). Used by the store writer
    (`streams.store_writer`) and the API's job processes (`api.job_processes`).
    """
    parent = multiprocessing.parent_process()
    if parent is None:
        return None
    sentinel: Any = parent.sentinel

    def watch() -> None:
        wait([sentinel])
        before_exit()
        os._exit(EXIT_ORPHANED)

    return threading.Thread(target=watch, name=name, daemon=True)


_PR_SET_PDEATHSIG = 1  # prctl(2)


def signalled_when_parent_dies(signal_number: int = signal.SIGTERM) -> None:
    """In a child (after fork, before its work or `exec`): ask Linux to send it `signal_number`
    when the thread that started it ends, however its process ends; nothing elsewhere. Linux
    watches the starting *thread*, so start children from one that outlives them (the main
    thread). Used as `preexec_fn` by the embedded broker (`streams.broker`) and `corridor up`'s
    parts (`corridor.cli.supervisor`), and by `killed_with_parent`."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal_number)


def killed_with_parent(parent_pid: int) -> None:
    """In a child just forked from `parent_pid`: SIGKILL it when the thread that forked it ends
    (`signalled_when_parent_dies`), and exit at once if the parent is already gone.

    A forked child has no sentinel to watch (`orphan_watch`), and may not start a thread of its
    own before its work; the kernel does the watching instead. Used by the forked replications
    (`corridor.forecast.forking`), so that a forecast or what-if process that is killed (or ends
    itself as an orphan) takes its replications with it instead of leaving them computing."""
    signalled_when_parent_dies(signal.SIGKILL)
    if os.getppid() != parent_pid:  # gone before the request was made
        os._exit(EXIT_ORPHANED)

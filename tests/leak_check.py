"""Every test module stops what it starts: a module that leaves a non-daemon thread or a child
process running fails, at the teardown of its last test.

What a module leaves running runs on beside the next modules of the same test process
(pytest-xdist gives each process many): it competes for the CPU, changes their timings, and
drops garbage of its own while they measure (CI once failed `tests/test_engine_garbage.py`
that way). Threads and processes that are still ending get `GRACE_S` to do so, so a slow
machine fails nothing that stops; what stays after that was not stopped. Not counted: daemon
threads (ended with the process, by design), zombies (ended, only not yet reaped), processes
that live for the whole session on purpose (`lives_for_the_session`, the session's broker),
and multiprocessing's own helpers, one per test process (`ONE_PER_PROCESS`).
"""

import threading
import time
from collections.abc import Iterator

import psutil
import pytest

GRACE_S = 30.0  # for what is still ending to end (a loaded machine's teardown)
ONE_PER_PROCESS = ("multiprocessing.resource_tracker", "multiprocessing.forkserver")
_SESSION_PIDS: set[int] = set()


def lives_for_the_session(pid: int) -> None:
    """The process `pid` (and its children) is a session fixture's: not a module's leak."""
    _SESSION_PIDS.add(pid)


@pytest.fixture(scope="module", autouse=True)
def nothing_left_running() -> Iterator[None]:
    """Fail the module if it leaves a non-daemon thread or a child process running."""
    threads = set(threading.enumerate())
    children = {child.pid for child in _running_children()}
    yield
    deadline = time.monotonic() + GRACE_S
    left_threads = _threads_left(threads, deadline)
    left_children = _children_left(children, deadline)
    if left_threads or left_children:
        pytest.fail(
            f"this module left running after {GRACE_S:g} s: threads {left_threads}, "
            f"processes {left_children}",
            pytrace=False,
        )


def _threads_left(before: set[threading.Thread], deadline: float) -> list[str]:
    new = [thread for thread in threading.enumerate() if thread not in before]
    for thread in new:
        if not thread.daemon:
            thread.join(max(0.0, deadline - time.monotonic()))
    return [thread.name for thread in new if not thread.daemon and thread.is_alive()]


def _children_left(before: set[int], deadline: float) -> list[str]:
    new = [child for child in _running_children() if child.pid not in before]
    _, alive = psutil.wait_procs(new, timeout=max(0.0, deadline - time.monotonic()))
    return [_described(child) for child in alive if _running(child)]


def _running_children() -> list[psutil.Process]:
    """This process's descendants that run, less the session's and multiprocessing's own."""
    found = []
    session = set(_SESSION_PIDS)
    for child in psutil.Process().children(recursive=True):
        try:
            if child.pid in session or child.ppid() in session:
                session.add(child.pid)  # parents come before their children
                continue
            command = " ".join(child.cmdline())
        except psutil.Error:
            continue  # ended meanwhile
        if _running(child) and not any(helper in command for helper in ONE_PER_PROCESS):
            found.append(child)
    return found


def _running(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _described(process: psutil.Process) -> str:
    try:
        return f"{process.pid} {' '.join(process.cmdline())[:120]}"
    except psutil.Error:
        return str(process.pid)

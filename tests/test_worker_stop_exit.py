"""A worker's whole exit is bounded, not only its `Worker.close`: from SIGTERM to the process
being gone takes at most `stop_within_s` plus `streams.stopping.TEARDOWN_MARGIN_S`, whatever
blocks after the close.

A real `corridor worker` process (`tests.exit_hangs`) is caught up on the real embedded broker,
with its exit made to block after the close: an exit handler that never returns, a non-daemon
thread that never ends, or a destructor that never returns met in the interpreter's teardown
(once Python's threads no longer run, as a C library's destructor). It is signalled beside a
process that keeps the bound alone (`tests.test_worker_stop`), and must end no later than the
bound plus the margin, with its documented exit code; a clean exit keeps 0.
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from api.store.sql_store import SqlStore
from streams.broker import EmbeddedBroker
from streams.publish import publish
from streams.stopping import EXIT_STOP_OVERDUE, EXIT_TEARDOWN_OVERDUE, TEARDOWN_MARGIN_S
from tests.broker_fixtures import generated_day, settings_env, settings_for
from tests.test_worker_broker_outage import archived_count, wait_until
from tests.test_worker_stop import bound_as_the_machine_keeps_it, ended_after
from tests.worker_processes import ROOT, worker_command

WITHIN_S = 5.0  # stop_within_s in these tests
CODES = {
    "none": 0,  # a clean exit: everything delivered
    "atexit": EXIT_STOP_OVERDUE,  # the watchdog thread still runs then
    "thread": EXIT_STOP_OVERDUE,
    "teardown": EXIT_TEARDOWN_OVERDUE,  # no Python thread runs then: faulthandler's C thread
}


@pytest.mark.broker
@pytest.mark.parametrize("hang", sorted(CODES))
def test_whatever_blocks_after_the_close_the_worker_is_gone_within_the_bound(
    broker: EmbeddedBroker, tmp_path: Path, hang: str
) -> None:
    settings = settings_for(broker, stop_within_s=WITHIN_S)
    events = generated_day()
    publish(events, settings)
    url = f"sqlite:///{tmp_path / 'twin.db'}"
    store = SqlStore.open(url)
    log = tmp_path / "worker.log"
    command = worker_command(url, "--exit-with-parent")
    command[command.index("tests.broker_fixtures")] = "tests.exit_hangs"
    command.insert(command.index("tests.exit_hangs") + 1, hang)
    env = {**os.environ, **settings_env(settings)}
    with log.open("wb") as sink:
        worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=sink, stderr=sink)
    try:
        wait_until(lambda: archived_count(store) == len(events), worker, log)  # caught up
        with bound_as_the_machine_keeps_it(WITHIN_S) as reference:
            worker.send_signal(signal.SIGTERM)
            reference.send_signal(signal.SIGTERM)
            timeout_s = WITHIN_S + TEARDOWN_MARGIN_S + 20
            stopped_after, bound_after = ended_after([worker, reference], timeout_s)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)

    text = log.read_text()
    print(f"{hang}: exit {worker.returncode} after {stopped_after:.1f} s; the bound alone "
          f"{bound_after:.1f} s")  # fmt: skip
    assert stopped_after <= bound_after + TEARDOWN_MARGIN_S + 1.0, text[-3000:]
    assert worker.returncode == CODES[hang], text[-3000:]
    assert "internal error" not in text
    if hang != "none":
        assert stopped_after >= WITHIN_S - 0.5, "the hang was met, and waited for"
    if hang == "teardown":  # faulthandler wrote where it was blocked
        assert "in __del__" in text, text[-3000:]


def test_the_hang_module_refuses_a_hang_it_does_not_know() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tests.exit_hangs", "sleep", "worker", "--help"],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    assert done.returncode != 0
    assert b"HANG: one of" in done.stderr

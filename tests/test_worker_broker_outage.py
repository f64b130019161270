"""A worker whose broker goes away: it says so, stays bounded, and exits or resumes.

With the real embedded broker stopped under a running `corridor worker` process, the worker
logs the outage ("broker unreachable since ..."), its memory does not grow while it waits
(RSS sampled), and after `broker_lost_exit_s` it stores its state and exits with
`EXIT_BROKER_LOST` for a supervisor to restart it. A broker back within that time is picked up
again and every event published to it is read. A worker started with `--exit-with-parent`
stops when the process that started it is killed. `BrokerOutage`'s own rules are checked on
in-memory clients.
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import pytest

from api.store.sql_store import SqlStore
from corridor.store_contract import ArchivedEvent
from streams.broker import EmbeddedBroker
from streams.broker_outage import EXIT_BROKER_LOST, BrokerLostError, BrokerOutage
from streams.publish import publish
from tests.broker_fixtures import (
    archived_ids,
    generated_day,
    settings_env,
    settings_for,
    steps_until,
    worker_on_the_first_of_two_days,
)
from tests.kafka_doubles import FakeAdmin, FakeConsumer, FakeProducer, cluster_for, fake_settings
from tests.worker_processes import ROOT, gone, start_worker, worker_command

DEADLINE_S = 8.0  # broker_lost_exit_s in these tests
RSS_GROWTH_BOUND = 16_000_000  # bytes a waiting worker may add (it adds about 25 KB/s unserved)


@pytest.mark.broker
def test_a_worker_without_its_broker_reports_it_stays_bounded_and_exits(
    own_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    settings = settings_for(own_broker, broker_lost_exit_s=DEADLINE_S, flush_timeout_s=2.0)
    events = generated_day()
    publish(events, settings)
    url = f"sqlite:///{tmp_path / 'twin.db'}"
    store = SqlStore.open(url)
    log = tmp_path / "worker.log"
    worker = start_worker(settings, url, log)
    try:
        wait_until(lambda: archived_count(store) == len(events), worker, log)
        process = psutil.Process(worker.pid)
        time.sleep(1.0)  # the last batch committed and its outputs delivered
        at_loss = process.memory_info().rss
        own_broker.stop()
        lost_at = time.monotonic()
        peak = sample_rss_until_exit(process, worker, timeout_s=DEADLINE_S + 30)
        exited_after = time.monotonic() - lost_at
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)

    text = log.read_text()
    assert worker.returncode == EXIT_BROKER_LOST, text[-3000:]
    assert "broker unreachable since" in text
    assert "more than broker_lost_exit_s" in text
    assert DEADLINE_S <= exited_after <= DEADLINE_S + 25, exited_after
    assert peak - at_loss <= RSS_GROWTH_BOUND, (at_loss, peak)
    assert archived_count(store) == len(events), "nothing lost or added by the exit"


@pytest.mark.broker
def test_a_broker_back_before_the_deadline_is_picked_up_without_loss(
    own_broker: EmbeddedBroker,
) -> None:
    settings = settings_for(own_broker, batch_size=200, broker_lost_exit_s=60.0)
    events, before, after, store, worker = worker_on_the_first_of_two_days(settings)
    steps_until(worker, lambda: archived_ids(store) == {e.event_id for e in before})
    steps_until(worker, lambda: worker.idle_for() > 0.5)

    own_broker.stop()
    outage = worker.recovery.outage
    steps_until(worker, lambda: outage.since is not None)
    began = time.monotonic()
    while time.monotonic() - began < 3.0:  # well short of the deadline
        assert worker.step() == 0, "nothing read while the broker is away"
    own_broker.start()  # same port, memory storage: empty
    publish(after, settings)
    everything = {e.event_id for e in events}
    steps_until(worker, lambda: archived_ids(store) == everything and worker.idle_for() > 0.5)
    worker.close()

    assert outage.since is None, "the outage ended"
    assert worker.stats.dead_letters["duplicate"] == 0, "nothing read twice"
    twin = worker.live.twin
    assert twin is not None
    assert twin.counts.applied.total() + twin.counts.rejected.total() == len(events)


@pytest.mark.broker
def test_a_worker_started_with_exit_with_parent_stops_when_its_parent_is_killed(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    settings = settings_for(broker)
    log = tmp_path / "worker.log"
    command = worker_command(f"sqlite:///{tmp_path / 'twin.db'}", "--exit-with-parent")
    env = {**os.environ, **settings_env(settings)}
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(log), *command],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    worker = psutil.Process(int(parent.stdout.readline()))
    try:
        deadline = time.monotonic() + 60
        while ": assigned {" not in log.read_text():  # its partitions, not the settings line
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        ended = gone(worker, within_s=30)
    finally:
        parent.stdout.close()
        if worker.is_running():
            worker.kill()
    assert ended, log.read_text()[-3000:]
    assert "parent process" in log.read_text()


PARENT = """
import subprocess, sys
with open(sys.argv[1], "wb") as sink:
    child = subprocess.Popen(sys.argv[2:], stdout=sink, stderr=sink)
print(child.pid, flush=True)
child.wait()
"""


def test_an_outage_is_noted_reported_and_ends_or_raises_at_its_deadline() -> None:
    settings = fake_settings()
    cluster = cluster_for(settings)
    clock = iter(datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=n) for n in range(100))
    outage = BrokerOutage(
        0.05, FakeConsumer(cluster), FakeProducer(cluster), FakeAdmin(cluster), lambda: next(clock)
    )
    outage.waiting(0.0, answering=True)
    assert outage.since is None, "a suspicion not yet checked is no outage"
    outage.waiting(0.0, answering=False)
    since = outage.since
    assert since == datetime(2026, 1, 1, tzinfo=UTC)
    outage.waiting(0.0, answering=False)
    assert outage.since == since, "the outage keeps its start"
    outage.ended()
    assert outage.since is None
    outage.waiting(0.0, answering=False)
    time.sleep(0.06)
    with pytest.raises(BrokerLostError, match="unreachable since 2026-01-01T00:00:01"):
        outage.waiting(0.0, answering=False)


def test_an_outage_without_a_deadline_never_raises() -> None:
    settings = fake_settings()
    cluster = cluster_for(settings)
    outage = BrokerOutage(0.0, FakeConsumer(cluster), FakeProducer(cluster), FakeAdmin(cluster))
    outage.waiting(0.0, answering=False)
    time.sleep(0.02)
    outage.waiting(0.0, answering=False)
    assert outage.since is not None


def archived_count(store: SqlStore) -> int:
    return sum(isinstance(entry, ArchivedEvent) for entry in store.load_archive())


def wait_until(
    done: Callable[[], bool], worker: "subprocess.Popen[bytes]", log: Path, timeout_s: float = 90
) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert worker.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.2)


def sample_rss_until_exit(
    process: psutil.Process, worker: "subprocess.Popen[bytes]", timeout_s: float
) -> int:
    """The largest RSS seen every 0.25 s until the worker exits (or `timeout_s` passes)."""
    peak = 0
    deadline = time.monotonic() + timeout_s
    while worker.poll() is None and time.monotonic() < deadline:
        try:
            peak = max(peak, process.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        time.sleep(0.25)
    worker.wait(timeout=5)
    return peak

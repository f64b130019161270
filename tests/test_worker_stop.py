"""A worker stops within `stop_within_s` of SIGTERM or SIGINT, with or without its broker.

A real `corridor worker` process catches up on the real embedded broker, with outputs to
deliver after every batch; the broker is stopped under it (or hangs: its process suspended, so
connections stay open and requests go unanswered), then the worker is signalled. It
must be gone within the bound (10 s, though an output flush may wait 30 s for a broker), with a
documented exit code, and its store consistent: every archived event once, and the stored
offsets exactly past what the archive holds. `StopDeadline`'s watchdog, the sink's flush once
stopping and the output recovery without a broker are checked on their own.
"""

import contextlib
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from confluent_kafka import KafkaError, KafkaException

from api.store.sql_store import SqlStore
from corridor.store_contract import ArchivedEvent
from streams.broker import EmbeddedBroker
from streams.broker_recovery import BrokerRecovery
from streams.broker_watch import BrokerWatch
from streams.outputs_sink import OutputSink
from streams.publish import publish
from streams.stopping import EXIT_STOP_OVERDUE, EXIT_UNDELIVERED, StopDeadline
from tests.broker_fixtures import generated_day, settings_for
from tests.kafka_doubles import FakeAdmin, FakeConsumer, FakeProducer, cluster_for, fake_settings
from tests.test_worker_broker_outage import archived_count, wait_until
from tests.worker_processes import start_worker

STOP_WITHIN_S = 10.0  # the default `stop_within_s`


@pytest.mark.broker
@pytest.mark.parametrize(
    ("broker_state", "signum", "membership"),
    [
        ("gone", signal.SIGTERM, "assigned"),
        ("gone", signal.SIGINT, "group"),
        ("hung", signal.SIGTERM, "assigned"),  # its process stopped: connections stay open
    ],
)
def test_a_worker_whose_broker_is_gone_or_hung_stops_within_the_bound(
    own_broker: EmbeddedBroker, tmp_path: Path, broker_state: str, signum: int, membership: str
) -> None:
    settings = settings_for(
        own_broker,
        membership=membership,
        batch_size=100,  # many batches, each with outputs to deliver
        catchup_kpi_every_s=0.0,
        flush_timeout_s=30.0,
        stop_within_s=STOP_WITHIN_S,
    )
    events = generated_day(days=4)
    publish(events, settings)
    url = f"sqlite:///{tmp_path / 'twin.db'}"
    store = SqlStore.open(url)
    log = tmp_path / "worker.log"
    worker = start_worker(settings, url, log)
    assert own_broker.pid is not None
    broker = psutil.Process(own_broker.pid)
    hung = [broker, *broker.children(recursive=True)]
    try:
        wait_until(lambda: archived_count(store) > 0, worker, log)
        if broker_state == "hung":  # mid catch-up: outputs wait for delivery
            for process in hung:
                process.suspend()
        else:
            own_broker.stop()
        time.sleep(2.0)
        assert worker.poll() is None, log.read_text()[-3000:]
        with bound_as_the_machine_keeps_it() as reference:
            worker.send_signal(signum)
            reference.send_signal(signum)
            # measured and asserted below
            stopped_after, bound_after = ended_after([worker, reference], STOP_WITHIN_S + 20)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)
        if broker_state == "hung":
            for process in hung:
                process.resume()

    text = log.read_text()
    name = signal.Signals(signum).name
    print(f"{name} ({membership}, broker {broker_state}): exit {worker.returncode} after "
          f"{stopped_after:.1f} s; the bound alone {bound_after:.1f} s")  # fmt: skip
    assert stopped_after <= bound_after + 1.0, text[-3000:]  # + the interpreter's exit
    assert worker.returncode in (0, EXIT_UNDELIVERED, EXIT_STOP_OVERDUE), text[-3000:]
    assert "internal error" not in text
    archived = [e for e in store.load_archive() if isinstance(e, ArchivedEvent)]
    assert archived, "the catch-up had begun"
    assert max(Counter(e.event_id for e in archived).values()) == 1, "each event once"
    per_partition = Counter((e.topic, e.partition) for e in archived)
    offsets = store.load_offsets(settings.group_id)
    assert {where: offset for where, offset in offsets.items() if offset} == dict(per_partition)


# The bound alone, as this machine keeps it at this moment: a process that takes the signal in
# Python, then ends `stop_within_s` later from a watchdog thread with `os._exit` (the worker's
# slowest way out, `streams.stopping`), its main thread busy as a worker's is. On a quiet
# machine it ends 10 s after the signal; under load as late as the load makes any process.
BOUND_ALONE = """
import os, signal, sys, threading
stop = threading.Event()
for signum in (signal.SIGTERM, signal.SIGINT):
    signal.signal(signum, lambda *_: stop.set())
def watchdog():
    stop.wait()
    threading.Event().wait(float(sys.argv[1]))
    os._exit(0)
threading.Thread(target=watchdog, daemon=True).start()
print("ready", flush=True)
while True:
    sum(range(1000))
"""


@contextlib.contextmanager
def bound_as_the_machine_keeps_it(
    within_s: float = STOP_WITHIN_S,
) -> Iterator[subprocess.Popen[bytes]]:
    """`BOUND_ALONE` running, ready for SIGTERM or SIGINT; killed if the test leaves it running."""
    command = [sys.executable, "-c", BOUND_ALONE, str(within_s)]
    with subprocess.Popen(command, stdout=subprocess.PIPE) as reference:
        try:
            assert reference.stdout is not None
            assert reference.stdout.readline() == b"ready\n"
            yield reference
        finally:
            reference.kill()


def ended_after(processes: list[subprocess.Popen[bytes]], timeout_s: float) -> list[float]:
    """Seconds from now until each process ended (`timeout_s` for one still running then)."""
    began = time.monotonic()
    ended: dict[int, float] = {}
    while len(ended) < len(processes) and time.monotonic() - began < timeout_s:
        for index, process in enumerate(processes):
            if index not in ended and process.poll() is not None:
                ended[index] = time.monotonic() - began
        time.sleep(0.01)
    return [ended.get(index, timeout_s) for index in range(len(processes))]


class SilentProducer(FakeProducer):
    """A producer whose broker is gone: flush waits its timeout and delivers nothing."""

    def flush(self, timeout: float = -1) -> int:
        time.sleep(max(timeout, 0.0))
        return len(self.queued)


def test_a_stopping_sink_flushes_once_and_counts_what_stays_queued() -> None:
    settings = fake_settings(flush_timeout_s=30.0)
    sink = OutputSink(SilentProducer(cluster_for(settings)), settings)
    sink.stopping = threading.Event()
    sink._produce(settings.topic_kpi, b"{}", b"corridor", None)
    sink.stopping.set()
    began = time.monotonic()
    assert sink.flush() == 1
    assert time.monotonic() - began < 2.0
    assert sink.undelivered == 1


class DownAdmin(FakeAdmin):
    def list_topics(self, *args: Any, **kwargs: Any) -> Any:
        raise KafkaException(KafkaError(KafkaError._TRANSPORT))


def test_outputs_waiting_on_a_broker_that_does_not_answer_raise_nothing() -> None:
    settings = fake_settings()
    cluster = cluster_for(settings)
    watch = BrokerWatch(FakeAdmin(cluster), settings)
    admin = DownAdmin(cluster)
    recovery = BrokerRecovery.of(
        settings, watch, FakeConsumer(cluster), FakeProducer(cluster), admin
    )
    watch.suspect = True
    recovery.recover_outputs()  # a worker flushing when the broker went away carries on
    with pytest.raises(KafkaException):
        admin.list_topics()


def test_the_stop_deadline_ends_a_stop_that_overruns_and_not_one_that_finishes() -> None:
    ended: list[int] = []
    stop = threading.Event()
    overrun = StopDeadline(stop, 0.1, end=ended.append)
    stop.set()
    overrun.thread.join(2.0)
    assert ended == [EXIT_STOP_OVERDUE]

    ended.clear()
    stop = threading.Event()
    finished = StopDeadline(stop, 0.1, end=ended.append)
    stop.set()
    finished.finished()
    finished.thread.join(2.0)
    time.sleep(0.2)
    assert ended == []


def test_an_exit_is_bounded_from_the_stop_or_from_its_start_when_none_was_asked() -> None:
    ended: list[int] = []
    stop = threading.Event()
    exiting = StopDeadline(stop, 0.1, end=ended.append)
    time.sleep(0.3)
    assert ended == []  # no stop asked, no exit begun: the worker runs on
    exiting.exiting()  # a worker that stopped by itself (`--exit-when-idle`)
    exiting.thread.join(2.0)
    assert ended == [EXIT_STOP_OVERDUE]  # not stood down: still running 0.1 s later is overdue

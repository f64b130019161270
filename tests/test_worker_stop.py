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
import threading
import time
from collections import Counter
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
        signalled = time.monotonic()
        worker.send_signal(signum)
        with contextlib.suppress(subprocess.TimeoutExpired):  # measured and asserted below
            worker.wait(STOP_WITHIN_S + 20)
        stopped_after = time.monotonic() - signalled
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)
        if broker_state == "hung":
            for process in hung:
                process.resume()

    text = log.read_text()
    name = signal.Signals(signum).name
    print(f"{name} ({membership}, broker {broker_state}): exit {worker.returncode} "
          f"after {stopped_after:.1f} s")  # fmt: skip
    assert stopped_after <= STOP_WITHIN_S + 1.0, text[-3000:]  # + the interpreter's exit
    assert worker.returncode in (0, EXIT_UNDELIVERED, EXIT_STOP_OVERDUE), text[-3000:]
    assert "internal error" not in text
    archived = [e for e in store.load_archive() if isinstance(e, ArchivedEvent)]
    assert archived, "the catch-up had begun"
    assert max(Counter(e.event_id for e in archived).values()) == 1, "each event once"
    per_partition = Counter((e.topic, e.partition) for e in archived)
    offsets = store.load_offsets(settings.group_id)
    assert {where: offset for where, offset in offsets.items() if offset} == dict(per_partition)


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

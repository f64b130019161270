"""Fixtures and helpers for the Kafka-edge tests: a real embedded broker, real topics.

`broker` is one embedded broker for the test session; every test gets topics and a group of
its own (`kafka_settings`), so tests never see each other's messages. Tests that stop the
broker start their own (`own_broker`). `expected_kpis` is the yardstick: the KPIs a replay of
the same events gives, computed here from the engine and `corridor.kpis.report` directly, without
the streaming code under test.

Run as a module (`python -m tests.broker_fixtures worker ...`) it is the `corridor` Kafka
command line wired to the API's SQL store, which is how the crash tests start a real worker
process.
"""

import socket
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import pytest
from confluent_kafka import OFFSET_BEGINNING, KafkaError, Message, TopicPartition

from corridor.contract.events import Event
from corridor.engine.clock import epoch_for, to_minutes
from corridor.engine.twin import Twin
from corridor.kpis.merge import merge
from corridor.kpis.partials import yard_partials
from corridor.kpis.record_frames import record_frames
from corridor.kpis.report import compute_kpis
from corridor.scenario import DEFAULT_START, load_scenario
from corridor.store_contract import ArchivedEvent, TwinStore
from corridor.traffic.generator import generate
from stations.spec import StationSpec
from streams.broker import EmbeddedBroker
from streams.clients import make_consumer
from streams.connect import connect_worker
from streams.live.memory_store import MemoryStore
from streams.publish import publish
from streams.settings import KafkaSettings
from streams.worker import Worker
from tests.leak_check import lives_for_the_session

SEED = 11
WINDOWS = {
    "1h": timedelta(hours=1),
    "shift": timedelta(hours=8),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
}
FAST = {
    "quiet_after_s": 0.3,
    "end_settle_s": 0.3,
    "poll_timeout_s": 0.05,
    "catchup_kpi_every_s": 0.5,
}


def port_free(port: int) -> bool:
    """Nothing listens there and a server could (connections in TIME_WAIT aside, as servers)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@pytest.fixture(scope="session")
def broker() -> Iterator[EmbeddedBroker]:
    """One embedded broker for the session (memory storage)."""
    with EmbeddedBroker() as running:
        assert running.pid is not None
        lives_for_the_session(running.pid)
        yield running


@pytest.fixture
def own_broker() -> Iterator[EmbeddedBroker]:
    """A broker for one test, which may stop and restart it."""
    with EmbeddedBroker() as running:
        yield running


@pytest.fixture
def kafka_settings(broker: EmbeddedBroker) -> KafkaSettings:
    """Settings with topics and a group of this test's own, and short timeouts."""
    return settings_for(broker)


def settings_for(broker: EmbeddedBroker, **overrides: Any) -> KafkaSettings:
    """Fresh topic names (so tests share a broker, not messages) and test-sized timings."""
    tag = uuid.uuid4().hex[:8]
    names = {
        f"topic_{name}": f"t{tag}.{name}"
        for name in ("dispatch", "reefer", "trains", "dead_letter", "kpi", "alerts")
    }
    given: dict[str, Any] = {
        "bootstrap_servers": broker.bootstrap_servers,
        "group_id": f"g{tag}",
        **names,
        **FAST,
        **overrides,
    }
    return KafkaSettings(**given)


def settings_env(settings: KafkaSettings) -> dict[str, str]:
    """The settings as `CORRIDOR_KAFKA_*` variables, for a worker process."""
    env = {}
    for name, value in settings.model_dump(exclude={"sasl_password", "extra_config"}).items():
        if value is None:
            continue
        text = f"PT{value.total_seconds()}S" if isinstance(value, timedelta) else str(value)
        env[f"CORRIDOR_KAFKA_{name.upper()}"] = text
    return env


def topic_messages(settings: KafkaSettings, topic: str, reader: str) -> list[Message]:
    """Every message on `topic`, each partition read from its beginning to its end, by a
    consumer of its own (group `<group id>-<reader>`)."""
    consumer = make_consumer(settings, extra={"group.id": f"{settings.group_id}-{reader}"})
    consumer.assign(
        [TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(settings.partitions)]
    )
    messages: list[Message] = []
    ended: set[int] = set()
    while len(ended) < settings.partitions:
        for message in consumer.consume(1000, timeout=5):
            error = message.error()
            if error is not None:
                assert error.code() == KafkaError._PARTITION_EOF, error
                ended.add(message.partition() or 0)
                continue
            messages.append(message)
    consumer.close()
    return messages


def stations() -> dict[str, StationSpec]:
    """The three baseline yards."""
    return load_scenario(None).stations


def generated_day(days: int = 1, seed: int = SEED) -> list[Event]:
    """Generated traffic for the three yards, in event-time order."""
    return list(generate(stations(), days=days, seed=seed, start=DEFAULT_START))


class FirstOfTwoDays(NamedTuple):
    """Two generated days, the first published and a worker (on a memory store) started on it."""

    events: list[Event]
    first_day: list[Event]  # published
    second_day: list[Event]  # for the test to publish
    store: MemoryStore
    worker: Worker


def worker_on_the_first_of_two_days(settings: KafkaSettings) -> FirstOfTwoDays:
    """Publish the first of two generated days and start an in-process worker reading it."""
    events = generated_day(days=2)
    midnight = DEFAULT_START + timedelta(days=1)
    first_day = [e for e in events if e.ts < midnight]
    second_day = [e for e in events if e.ts >= midnight]
    publish(first_day, settings)
    store = MemoryStore()
    worker = connect_worker(settings, store, stations(), SEED)
    worker.start()
    return FirstOfTwoDays(events, first_day, second_day, store, worker)


def run_worker(settings: KafkaSettings, store: TwinStore) -> Worker:
    """An in-process worker on `store`, run until its topics are quiet for 0.6 s, then closed."""
    worker = connect_worker(settings, store, stations(), SEED)
    worker.run(idle_exit_s=0.6)
    worker.close()
    return worker


def archived_ids(store: MemoryStore) -> set[str]:
    """The ids of the events a worker archived in `store`."""
    return {entry.event_id for entry in store.archive if isinstance(entry, ArchivedEvent)}


def steps_until(
    worker: Worker, done: Callable[[], bool], timeout_s: float = 60.0, what: str = "timed out"
) -> None:
    """Step an in-process worker until `done`; fail saying `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, what
        worker.step()


def expected_kpis(
    events: Sequence[Event], as_of: datetime, seed: int = SEED
) -> dict[tuple[str, str], Mapping[str, Any]]:
    """(scope, window) -> KPIs of a replay of `events`, its clocks run to `as_of`.

    The events are applied here yard by yard in event-time order (stable), as
    `corridor.engine.twin.replay` does.
    """
    twin = Twin(stations(), seed, epoch_for(min(event.ts for event in events)))
    for yard in twin.yards:
        for event in sorted((e for e in events if e.yard == yard), key=lambda e: e.ts):
            twin.apply(event)
    twin.advance_to(as_of)
    return kpis_over_every_record(twin, as_of)


def kpis_over_every_record(twin: Twin, as_of: datetime) -> dict[tuple[str, str], Mapping[str, Any]]:
    """(scope, window) -> KPIs over the frames of every record of `twin` (its clocks at
    `as_of`), the corridor's merged from the yards' partials as the live twin reports it."""
    assert twin.epoch is not None
    frames = record_frames(twin)
    result: dict[tuple[str, str], Mapping[str, Any]] = {}
    for window, length in WINDOWS.items():
        start = max(twin.epoch, as_of - length)
        kpis = compute_kpis(
            frames,
            start=to_minutes(start, twin.epoch),
            end=to_minutes(as_of, twin.epoch),
            stations=twin.stations,
        )
        corridor = merged_corridor(frames, start, as_of, twin)
        for scope, figures in [*kpis["yards"].items(), ("corridor", corridor)]:
            result[(scope, window)] = figures
    return result


def merged_corridor(
    frames: Mapping[str, Any], start: datetime, end: datetime, twin: Twin
) -> Mapping[str, Any]:
    """The corridor's KPIs as the live twin reports them: merged from the yards' partials
    (`corridor.kpis.merge`; equal to `compute_kpis`' but for percentiles within 0.5 %)."""
    assert twin.epoch is not None
    parts = yard_partials(
        frames,
        start=to_minutes(start, twin.epoch),
        end=to_minutes(end, twin.epoch),
        stations=twin.stations,
    )
    return merge([parts[yard] for yard in twin.stations])


def main(argv: Sequence[str]) -> int:
    """`corridor worker|record|publish` with the API's SQL store as the durable store."""
    from api.cli import open_store  # only the worker process needs SQL
    from streams.cli import main as streams_main

    return streams_main(argv, open_store=open_store)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

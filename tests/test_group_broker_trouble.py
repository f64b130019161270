"""A group member that saw broker trouble goes on with its share, not with every partition.

After a connection error (`streams.broker_watch`) a worker verifies its topics and assigns its
partitions again (`streams.broker_recovery`). A single worker owns every input partition, but a
consumer group member owns the share the group gave it: were it to assign itself every
partition, it would read and archive its peers' yards beside them until the next rebalance
(seen under load as "a worker took every partition" in `tests/test_worker_group.py`). Two
in-process members share the partitions on the real broker; one is told of a transport error,
as librdkafka's error callback tells it, and recovers.
"""

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from confluent_kafka import KafkaError

from api.store.sql_store import SqlStore
from streams.broker import EmbeddedBroker
from streams.connect import connect_worker
from streams.publish import publish
from streams.worker import Worker
from tests.broker_fixtures import SEED, generated_day, settings_for, stations

pytestmark = pytest.mark.broker


def test_a_member_recovering_from_broker_trouble_keeps_its_share(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    settings = settings_for(broker, membership="group", partitions=6, batch_size=100)
    publish(generated_day(days=1), settings)
    url = f"sqlite:///{tmp_path / 'twin.db'}"
    members = [connect_worker(settings, SqlStore.open(url), stations(), SEED) for _ in "ab"]
    try:
        for member in members:
            member.start()  # joins the group
        step_all(members, lambda: shared(members), "the members did not share the partitions")
        first, second = members
        share = owned(first)

        first.watch.on_error(KafkaError(KafkaError._TRANSPORT, "broker trouble, for the test"))
        step_all(members, lambda: not first.watch.suspect, "the member did not recover")
        step_all(members, lambda: False, timeout_s=1.0)  # the reassignment read from

        assert owned(first) == share, "its group share, unchanged"
        assert set(first.positions) == share, "it reads its share only"
        assigned = {(tp.topic, tp.partition) for tp in first.consumer.assignment()}
        assert assigned == share
        assert not set(first.positions) & set(second.positions), "no partition read twice"
    finally:
        for member in members:
            member.close()


def owned(member: Worker) -> frozenset[tuple[str, int]]:
    assert member.group is not None
    return member.group.owned


def shared(members: list[Worker]) -> bool:
    """Both members hold partitions of one generation: disjoint, every input partition."""
    first, second = (owned(member) for member in members)
    return bool(first) and bool(second) and not first & second and len(first | second) == 18


def step_all(
    members: list[Worker], done: Callable[[], bool], what: str = "", timeout_s: float = 60.0
) -> None:
    """Step the members in turn (each consume serves its group's callbacks) until `done()`;
    after `timeout_s`, fail saying `what`, or return if there is nothing to say."""
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            assert not what, what
            return
        for member in members:
            member.step()

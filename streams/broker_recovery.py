"""Broker recovery: after a broker lost topics, re-read recreated inputs and report the loss.

`streams.broker_watch` notices that something is wrong; this module decides what the worker
does about it. Input topics that were recreated are read again from their first offset (those
offsets are forced into the next commit, since the stored ones point past the new log's end);
for each of their partitions it logs and records (`BrokerLoss`) the offset the worker had read
up to and the end of the log it last saw, the difference being the unread messages lost. While
outputs wait for delivery, a broker that lost the output topics gets them back. How the worker
waits for a broker that does not answer, and when it gives up: `streams.broker_outage`.
"""

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from confluent_kafka import KafkaException, TopicPartition

from streams.broker_outage import BrokerOutage
from streams.broker_watch import BrokerLoss, BrokerWatch
from streams.clients import ensure_topics, partitions_of
from streams.live.watermark import Partition
from streams.ports import AdminPort, ConsumerPort, ProducerPort
from streams.settings import KafkaSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Reassignment:
    """Where to read after a recovery: every input partition (a group member: its share) and
    its next offset."""

    partitions: list[Partition]
    offsets: dict[Partition, int]


@dataclass(slots=True)
class BrokerRecovery:
    """Known log ends, the losses found, and offsets the next commit must carry."""

    admin: AdminPort
    settings: KafkaSettings
    watch: BrokerWatch
    outage: BrokerOutage
    known_end: dict[Partition, int] = field(default_factory=dict)
    losses: list[BrokerLoss] = field(default_factory=list)
    forced_offsets: dict[Partition, int] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        settings: KafkaSettings,
        watch: BrokerWatch,
        consumer: ConsumerPort,
        producer: ProducerPort,
        admin: AdminPort,
    ) -> "BrokerRecovery":
        """The recovery of a worker with these settings, its broker watch and its clients."""
        outage = BrokerOutage(settings.broker_lost_exit_s, consumer, producer, admin)
        return cls(admin, settings, watch, outage)

    def recover(
        self, positions: Mapping[Partition, int], share: Collection[Partition] | None = None
    ) -> Reassignment | None:
        """Verify the topics; None (after a pause) while the broker does not answer.

        `share`: a consumer group member's partitions, the only ones it reads again (its
        peers own the rest: taking every input partition, as a single worker does, would read
        and archive their yards beside them until the next rebalance)."""
        changed = self.watch.changed_topics()
        if changed is None:  # the pause spent serving the clients (`streams.broker_outage`)
            self.outage.waiting(self.settings.poll_timeout_s, answering=self.watch.answering)
            return None
        self.outage.ended()
        inputs = [topic for topic in changed if topic in self.settings.input_topics]
        for (topic, partition), position in sorted(positions.items()):
            if topic in inputs:
                self._lost(topic, partition, position)
        if share is None:
            partitions = partitions_of(self.admin, self.settings.input_topics)
        else:
            partitions = sorted(share)
        restart = {where: 0 for where in partitions if where[0] in inputs}
        self.forced_offsets.update(restart)
        kept = {where: positions.get(where, 0) for where in partitions}
        return Reassignment(partitions, {**kept, **restart})

    def recover_outputs(self) -> None:
        """While outputs wait for delivery: recreate the output topics if the broker lost them."""
        if not self.watch.suspect:
            return
        try:
            ensure_topics(self.admin, self.settings, self.settings.all_topics, timeout_s=2.0)
        except KafkaException as error:  # not answering: the flush waits on, up to its deadline
            log.info("broker not answering while outputs wait: %s", error)

    def take_forced_offsets(self) -> dict[Partition, int]:
        """Offsets to commit with the next batch (recreated partitions), then forgotten."""
        forced, self.forced_offsets = self.forced_offsets, {}
        return forced

    def lag(self, consumer: ConsumerPort, positions: Mapping[Partition, int]) -> int | None:
        """Messages known to wait on the input partitions (None if a partition's end is unknown);
        the ends seen are remembered, to report what a broker loses."""
        total: int | None = 0
        for where, position in positions.items():
            _low, high = consumer.get_watermark_offsets(TopicPartition(*where), cached=True)
            if high < 0:
                total = None
                continue
            self.known_end[where] = high
            if total is not None:
                total += max(0, high - position)
        return total

    def _lost(self, topic: str, partition: int, position: int) -> None:
        end = max(self.known_end.get((topic, partition), 0), position)
        loss = BrokerLoss(topic, partition, position, end)
        self.losses.append(loss)
        log.warning(
            "broker lost %s[%d]: read up to offset %d of %d, %d unread messages lost; "
            "resuming from the recreated topic's first offset",
            topic, partition, loss.read_up_to, loss.known_end, loss.lost,
        )  # fmt: skip

"""Noticing a broker that lost its topics, so the worker neither stalls nor invents events.

A memory-only broker (the embedded one) forgets every topic when it restarts, and a real
cluster can lose a topic to an operator or to retention. The consumer then sits at offsets
that no longer exist, and the broker says nothing about it. librdkafka reconnects by itself;
after a connection error this watch compares each topic's id (which changes when a topic is
created again) with the one seen at start. Topics that vanished are created again, and the
worker resumes the changed input topics from their first offset, reporting as lost what it
knew was there and had not read.
"""

import logging
import time
from dataclasses import dataclass

from confluent_kafka import KafkaError, KafkaException

from streams.clients import ensure_topics, topic_ids
from streams.ports import AdminPort
from streams.settings import KafkaSettings

log = logging.getLogger(__name__)

SUSPECT_CODES = frozenset(
    {
        KafkaError._TRANSPORT,
        KafkaError._ALL_BROKERS_DOWN,
        KafkaError._UNKNOWN_TOPIC,
        KafkaError._UNKNOWN_PARTITION,
        KafkaError.UNKNOWN_TOPIC_OR_PART,
    }
)
CHECK_EVERY_S = 1.0


@dataclass(frozen=True, slots=True)
class BrokerLoss:
    """A partition whose topic the broker recreated: messages [read_up_to, known_end) are gone."""

    topic: str
    partition: int
    read_up_to: int  # the next offset the worker would have read
    known_end: int  # the end of the log as last seen by the worker

    @property
    def lost(self) -> int:
        """Messages that were on the broker, never read by the worker, and are gone."""
        return max(0, self.known_end - self.read_up_to)


class BrokerWatch:
    """Topic ids as first seen, and whether a connection error asks to check them again."""

    def __init__(self, admin: AdminPort, settings: KafkaSettings) -> None:
        self.admin = admin
        self.settings = settings
        self.ids = topic_ids(admin, settings.all_topics)
        self.suspect = False
        self.answering = True  # false while the broker did not answer its last check
        self._checked = 0.0

    def on_error(self, error: KafkaError) -> None:
        """librdkafka's error callback: connection and unknown-topic errors raise suspicion."""
        if error.code() in SUSPECT_CODES:
            if not self.suspect:
                log.warning("broker trouble, will check its topics: %s", error)
            self.suspect = True
        else:
            log.warning("kafka: %s", error)

    def changed_topics(self) -> list[str] | None:
        """When suspicious: the topics recreated since start (missing ones are created again).

        Returns None while the broker does not answer (or it is not time to check yet), and an
        empty list once it answers with every topic unchanged.
        """
        if not self.suspect or time.monotonic() - self._checked < CHECK_EVERY_S:
            return None
        self._checked = time.monotonic()
        try:
            ensure_topics(self.admin, self.settings, self.settings.all_topics, timeout_s=2.0)
            now = topic_ids(self.admin, self.settings.all_topics, timeout_s=2.0)
        except KafkaException as error:
            log.info("broker not answering yet: %s", error)
            self.answering = False
            return None
        self.answering = True
        changed = sorted(topic for topic, old in self.ids.items() if now.get(topic) != old)
        self.ids = now
        self.suspect = False
        if changed:
            log.warning("broker recreated topics %s: their old messages are gone", changed)
        else:
            log.info("broker reachable again, topics unchanged")
        return changed

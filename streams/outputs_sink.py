"""Where a batch's outputs go before its commit: the dead-letter, KPI and alert topics.

Dead letters keep the original value, key and headers and add the reason and origin headers
(`streams.dead_letters`), within the producer's `message_max_bytes` (`copy_for_topic`); KPI
snapshots are JSON keyed by scope ("tuanjiecun", ..., "corridor") so a compacted topic keeps
the latest per scope; reefer alerts are JSON keyed by yard (`streams.live.reefer_alerts`).
Everything is flushed before the store commit:
a crash between the two re-sends (at least once), it never loses a message the store has.
A flush waits at most `flush_timeout_s`, and once the worker is stopping (`stopping`, set by
`streams.stopping`) one short flush only: what stays queued is counted (`undelivered`).
"""

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import msgspec
from confluent_kafka import KafkaError, KafkaException, Message

from corridor.store_contract import DeadLetter, KpiSnapshot
from streams.dead_letters import Headers, RawHeaders, copy_for_topic
from streams.live.reefer_alerts import ReeferAlert
from streams.live.snapshots import snapshot_message
from streams.ports import ProducerPort
from streams.settings import KafkaSettings

log = logging.getLogger(__name__)
_encoder = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class Letter:
    """A dead letter with the original key and headers, ready to produce."""

    letter: DeadLetter
    key: bytes | None
    headers: RawHeaders | None


class OutputSink:
    """Produces dead letters and KPI snapshots; counts delivery failures."""

    def __init__(self, producer: ProducerPort, settings: KafkaSettings) -> None:
        self.producer = producer
        self.settings = settings
        self.failed = 0
        self.stopping: threading.Event | None = None  # set: flush without waiting for the broker
        self._pending = 0

    @property
    def undelivered(self) -> int:
        """Messages still queued after the last flush (0 once everything was delivered)."""
        return self._pending

    def send(
        self,
        letters: list[Letter],
        snapshots: list[KpiSnapshot],
        alerts: Sequence[ReeferAlert] = (),
    ) -> None:
        """Queue the batch's messages (delivery is confirmed by `flush`)."""
        for item in letters:
            self._send_letter(item)
        for snapshot in snapshots:
            value = _encoder.encode(snapshot_message(snapshot))
            self._produce(self.settings.topic_kpi, value, snapshot.scope.encode("utf-8"), None)
        for alert in alerts:
            value = _encoder.encode(alert.message())
            self._produce(self.settings.topic_alerts, value, alert.yard.encode("utf-8"), None)

    def flush(self, between: Callable[[], None] | None = None) -> int:
        """Wait for delivery (up to `flush_timeout_s`); returns the messages still queued."""
        if self._pending == 0:
            return 0
        deadline = time.monotonic() + self.settings.flush_timeout_s
        remaining = self.producer.flush(min(1.0, self.settings.flush_timeout_s))
        while remaining and time.monotonic() < deadline and not self._stopping():
            if between is not None:
                between()
            remaining = self.producer.flush(1.0)
        if remaining:
            log.warning("%d output messages not yet delivered; they stay queued", remaining)
        self._pending = remaining
        return int(remaining)

    def _stopping(self) -> bool:
        return self.stopping is not None and self.stopping.is_set()

    def _send_letter(self, item: Letter) -> None:
        """Its copy within the size limit; refused anyway, a copy that only refers to the store."""
        limit = self.settings.message_max_bytes
        value, key, headers = copy_for_topic(item.letter, item.key, item.headers, limit)
        try:
            self._produce(self.settings.topic_dead_letter, value, key, headers)
        except KafkaException as error:  # the broker's limit may be lower than ours
            log.error("dead letter copy refused (%s): sending a reference to the store", error)
            _value, key, headers = copy_for_topic(item.letter, None, None, 0)
            try:
                self._produce(self.settings.topic_dead_letter, b"", key, headers)
            except KafkaException as again:  # the store still has the letter; count and go on
                self.failed += 1
                log.error("dead letter reference refused too: %s", again)

    def _produce(
        self, topic: str, value: bytes, key: bytes | None, headers: Headers | None
    ) -> None:
        while True:
            try:
                self.producer.produce(
                    topic, value=value, key=key, headers=headers, on_delivery=self._delivered
                )
                break
            except BufferError:
                self.producer.poll(0.1)
        self._pending += 1

    def _delivered(self, error: KafkaError | None, message: Message) -> None:
        if error is not None:
            self.failed += 1
            log.error("output to %s not delivered: %s", message.topic(), error)

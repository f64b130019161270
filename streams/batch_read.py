"""A step's read from the consumer: what librdkafka already holds, waiting only if it holds none.

`Consumer.consume(n, timeout)` returns once it has `n` messages or once `timeout` has passed
(librdkafka's `rd_kafka_consume_batch_queue`): a batch that cannot fill waits the whole
timeout with its messages in hand. In a catch-up that is every batch at the end of the
backlog (the partitions end one after another, or a resumed partition is fetched again), each
waiting the worker's `poll_timeout_s` (0.2 s) for messages that were not coming: a tenth of a
150,000-event catch-up's wall time (`docs/performance.md`). So the worker first takes what is
queued without waiting, and waits as before only when nothing is: a catch-up, whose queue
librdkafka keeps full, never waits. Live, a step that waited is followed by one that takes at
once what came during the first one's work.

Its batches are small and hold what librdkafka fetched first, often one partition's messages
before another's: that is what exposed the watermark's race (a partition confirmed at its end
before new messages were produced to it was still taken as idle), fixed in
`streams.live.watermark` (an end vouches only for the input received before it was asked).
"""

from collections.abc import Sequence
from typing import Protocol, TypeVar

Message = TypeVar("Message", covariant=True)


class Consuming(Protocol[Message]):
    """The one consumer call read makes (`confluent_kafka.Consumer.consume`'s)."""

    def consume(self, num_messages: int = 1, timeout: float = -1) -> Sequence[Message]: ...


def read_batch(consumer: Consuming[Message], limit: int, *, timeout: float) -> Sequence[Message]:
    """Up to `limit` messages: those queued now, or (none queued) those that come within
    `timeout`, up to `limit`."""
    queued = consumer.consume(limit, timeout=0)
    if queued:
        return queued
    return consumer.consume(limit, timeout=timeout)

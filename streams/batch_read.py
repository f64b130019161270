"""A step's read from the consumer: what librdkafka already holds, waiting only if it holds none.

`Consumer.consume(n, timeout)` returns once it has `n` messages or once `timeout` has passed
(librdkafka's `rd_kafka_consume_batch_queue`): a batch that cannot fill waits the whole timeout
with its messages in hand. In a catch-up that is every batch at the end of the backlog (the
partitions end one after another, or a resumed partition is fetched again), each waiting the
worker's `poll_timeout_s` (0.2 s) for messages that were not coming: a tenth of a 150,000-event
catch-up's wall time (`docs/performance.md`). So the worker first takes what is queued without
waiting; only when nothing is queued does it wait, and then only for the first message
(`consume(1, timeout)` returns as soon as one has come), taking at once whatever else came with
it. A catch-up, whose queue librdkafka keeps full, never waits; live, a step waits for the next
event and no longer: with the batch call's wait, every live step at the default 0.2 s poll
timeout waited out the whole timeout unless 10,000 events came within it, up to 200 ms on every
event's way to its KPIs. Taking what is queued and otherwise waiting the batch call's way (the
read of `22cc508`) ends half of those waits only: live, every other step still waited 0.2 s.

These small live batches hold what librdkafka fetched first, often one partition's new messages
before another's: they exposed the watermark's race (a partition confirmed at its end before
more was produced to it still taken as idle: `rejected:container_id` in `bench_year.py --feed
broker`), fixed in `streams.live.watermark` (an end vouches only for the input received before
it was asked). The read was reverted for it once (`c0b5ecb`) and is back since the fix.
"""

from collections.abc import Sequence
from typing import Protocol, TypeVar

Message = TypeVar("Message", covariant=True)


class Consuming(Protocol[Message]):
    """The one consumer call read makes (`confluent_kafka.Consumer.consume`'s)."""

    def consume(self, num_messages: int = 1, timeout: float = -1) -> Sequence[Message]: ...


def read_batch(consumer: Consuming[Message], limit: int, *, timeout: float) -> Sequence[Message]:
    """Up to `limit` messages: those queued now, or (none queued) the first that comes within
    `timeout` and those queued behind it."""
    queued = consumer.consume(limit, timeout=0)
    if queued:
        return queued
    first = consumer.consume(1, timeout=timeout)
    if not first or limit == 1:
        return first
    return [*first, *consumer.consume(limit - 1, timeout=0)]

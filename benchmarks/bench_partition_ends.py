"""At each end-of-partition event: is the partition really at its end? Cached against fresh.

The watermark takes a partition at its end as idle only `end_settle_s` after the end event
(`streams.live.watermark`), because the embedded broker reports ends early, and that settling
time is most of the produce-to-KPI latency of a fast stream (`docs/performance.md`). This
probe asks, at every end event while a producer writes bursts to three partitions: were
messages already acknowledged past the consumer's position, and did librdkafka's cached high
watermark (what `streams.partition_ends` reads) and a fresh `ListOffsets` request
(`get_watermark_offsets(cached=False)`) each say so? It prints how often each agreed with an
early end, the fresh answer against the acknowledged end, and the fresh request's round trip.

    .venv/bin/python benchmarks/bench_partition_ends.py [--seconds 20]
"""

import argparse
import statistics
import threading
import time

from confluent_kafka import KafkaError, Message, TopicPartition

from streams.broker import EmbeddedBroker
from streams.clients import ensure_topics, make_admin, make_consumer, make_producer
from streams.settings import KafkaSettings

TOPIC = "ends"
PARTITIONS = 3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    with EmbeddedBroker() as broker:
        settings = KafkaSettings(
            bootstrap_servers=broker.bootstrap_servers, partitions=PARTITIONS, group_id="ends"
        )
        ensure_topics(make_admin(settings), settings, [TOPIC])
        acked = [0] * PARTITIONS  # per partition: the end of what the broker acknowledged
        stop = threading.Event()
        writer = threading.Thread(target=produce_bursts, args=(settings, acked, stop))
        writer.start()
        try:
            probe(settings, acked, args.seconds)
        finally:
            stop.set()
            writer.join()


def produce_bursts(settings: KafkaSettings, acked: list[int], stop: threading.Event) -> None:
    """Bursts of 50 messages over the partitions, 5 to 35 ms apart, until `stop`."""

    def delivered(error: KafkaError | None, message: Message) -> None:
        part, offset = message.partition(), message.offset()
        if error is None and part is not None and offset is not None:
            acked[part] = max(acked[part], offset + 1)

    producer = make_producer(settings, extra={"linger.ms": 1})
    sent = 0
    while not stop.is_set():
        for _ in range(50):
            producer.produce(TOPIC, b"x" * 200, partition=sent % PARTITIONS, on_delivery=delivered)
            sent += 1
        producer.poll(0)
        time.sleep(0.005 * (1 + (sent // 50) % 7))
    producer.flush(10)


def probe(settings: KafkaSettings, acked: list[int], seconds: float) -> None:
    consumer = make_consumer(settings, extra={"enable.partition.eof": True})
    consumer.assign([TopicPartition(TOPIC, part, 0) for part in range(PARTITIONS)])
    position = [0] * PARTITIONS
    ends = early = cached_early = fresh_early = worst_cached = 0
    fresh_ahead: list[int] = []  # fresh high watermark less the acknowledged end before it
    round_trips: list[float] = []
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        for message in consumer.consume(10_000, timeout=0.01):
            part, error = message.partition() or 0, message.error()
            if error is None:
                position[part] = (message.offset() or 0) + 1
                continue
            if error.code() != KafkaError._PARTITION_EOF:
                continue
            ends += 1
            where = TopicPartition(TOPIC, part)
            _low, cached = consumer.get_watermark_offsets(where, cached=True)
            acked_before = acked[part]
            asked = time.perf_counter()
            _low, fresh = consumer.get_watermark_offsets(where, timeout=5, cached=False)
            round_trips.append(time.perf_counter() - asked)
            fresh_ahead.append(fresh - acked_before)
            if acked_before > position[part]:  # the end came early: acknowledged messages wait
                early += 1
                if cached <= position[part]:
                    cached_early += 1
                    worst_cached = max(worst_cached, acked_before - position[part])
                if fresh <= position[part]:
                    fresh_early += 1
    consumer.close()
    below = sum(ahead < 0 for ahead in fresh_ahead)
    median, longest = statistics.median(round_trips) * 1000, max(round_trips) * 1000
    rows = [
        ("end-of-partition events", f"{ends}"),
        ("  early (acknowledged messages past the position)", f"{early}"),
        ("  early, and the cached high watermark agreed", f"{cached_early} (worst {worst_cached})"),
        ("  early, and a fresh ListOffsets agreed", f"{fresh_early}"),
        ("  fresh ListOffsets below the acknowledged end", f"{below} of {len(fresh_ahead)}"),
        ("  fresh ListOffsets round trip, median / max", f"{median:.1f} / {longest:.1f} ms"),
    ]
    for label, value in rows:
        print(f"{label:<52}{value:>20}")


if __name__ == "__main__":
    main()

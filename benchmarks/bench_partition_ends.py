"""At each end-of-partition event: is the partition really at its end? Cached against fresh.

The watermark takes a partition at its end as idle only `end_settle_s` after the end event
(`streams.live.watermark`), because the embedded broker reports ends early, and that settling
time is most of the produce-to-KPI latency of a fast stream (`docs/performance.md`). This
probe asks, at every end event while a producer writes bursts to three partitions: were
messages already acknowledged past the consumer's position, and did librdkafka's cached high
watermark (what `streams.partition_ends` reads) and a fresh `ListOffsets` request
(`get_watermark_offsets(cached=False)`) each say so? It prints how often each agreed with an
early end, the fresh answer against the acknowledged end, and the fresh request's round trip.
The fresh question is asked twice: by the consumer (`get_watermark_offsets(cached=False)`) and
by an admin client's `list_offsets` (what `streams.partition_ends` sends, off the worker's
loop). `--burners N` runs N CPU-bound processes meanwhile (the machine under load, where the
embedded broker's fetch responses were seen to lag its log). The embedded broker answers
`ListOffsets` with the base offset of the last record batch plus one, so answers below the
acknowledged end are expected (the producer batches); what matters to the worker is the
"early, and ... agreed" lines: an answer at or below the position while acknowledged messages
wait past it would be an end wrongly confirmed.

    .venv/bin/python benchmarks/bench_partition_ends.py [--seconds 20] [--burners 6]
"""

import argparse
import multiprocessing
import os
import statistics
import threading
import time

from confluent_kafka import IsolationLevel, KafkaError, Message, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from streams.broker import EmbeddedBroker
from streams.clients import ensure_topics, make_admin, make_consumer, make_producer
from streams.settings import KafkaSettings

TOPIC = "ends"
PARTITIONS = 3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--burners", type=int, default=0, help="CPU-bound processes meanwhile")
    args = parser.parse_args()
    burners = [multiprocessing.Process(target=burn, daemon=True) for _ in range(args.burners)]
    for burner in burners:
        burner.start()
    try:
        run(args.seconds)
    finally:
        for burner in burners:
            burner.terminate()
            burner.join()
    print(f"{'load average after':<52}{os.getloadavg()[0]:>20.2f}")


def burn() -> None:
    """Spin until terminated."""
    spins = 0
    while True:
        spins += 1


def run(seconds: float) -> None:
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
            probe(settings, acked, seconds)
        finally:
            stop.set()
            writer.join()


acked_at: list[list[tuple[int, float]]] = [[] for _ in range(PARTITIONS)]
"""Per partition, (acknowledged end, when its delivery report came) as it grew."""


def produce_bursts(settings: KafkaSettings, acked: list[int], stop: threading.Event) -> None:
    """Bursts of 50 messages over the partitions, 5 to 35 ms apart, until `stop`."""

    def delivered(error: KafkaError | None, message: Message) -> None:
        part, offset = message.partition(), message.offset()
        if error is None and part is not None and offset is not None and offset >= acked[part]:
            acked[part] = offset + 1
            acked_at[part].append((offset + 1, time.perf_counter()))

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
    admin = AdminClient(settings.client_config())
    position = [0] * PARTITIONS
    ends = early = cached_early = fresh_early = listed_early = worst_cached = 0
    fresh_ahead: list[int] = []  # fresh high watermark less the acknowledged end before it
    listed_ahead: list[int] = []  # the same, by the admin client's list_offsets
    round_trips: list[float] = []
    listed_trips: list[float] = []
    stale = 0  # answers below the consumer's position
    missed_ages: list[float] = []  # how long before a request was an end it missed acknowledged
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
            acked_before = acked[part]
            asked = time.perf_counter()
            listed = list_end(admin, where)
            listed_trips.append(time.perf_counter() - asked)
            listed_ahead.append(listed - acked_before)
            stale += listed < position[part]  # older than the fetch that reached the end
            if listed < acked_before:  # the oldest acknowledgement it missed
                first = next(t for end, t in acked_at[part] if end > listed)
                missed_ages.append(asked - first)
            if acked_before > position[part]:  # the end came early: acknowledged messages wait
                early += 1
                if cached <= position[part]:
                    cached_early += 1
                    worst_cached = max(worst_cached, acked_before - position[part])
                if fresh <= position[part]:
                    fresh_early += 1
                if listed <= position[part]:
                    listed_early += 1
    consumer.close()
    below = sum(ahead < 0 for ahead in fresh_ahead)
    listed_below = sum(ahead < 0 for ahead in listed_ahead)
    median, longest = statistics.median(round_trips) * 1000, max(round_trips) * 1000
    listed_median = statistics.median(listed_trips) * 1000
    listed_longest = max(listed_trips) * 1000
    rows = [
        ("end-of-partition events", f"{ends}"),
        ("  early (acknowledged messages past the position)", f"{early}"),
        ("  early, and the cached high watermark agreed", f"{cached_early} (worst {worst_cached})"),
        ("  early, and a fresh ListOffsets agreed", f"{fresh_early}"),
        ("  fresh ListOffsets below the acknowledged end", f"{below} of {len(fresh_ahead)}"),
        ("  fresh ListOffsets round trip, median / max", f"{median:.1f} / {longest:.1f} ms"),
        ("  early, and the admin's list_offsets agreed", f"{listed_early}"),
        ("  admin list_offsets below the position (stale)", f"{stale}"),
        (
            "  oldest acknowledgement it missed, max",
            f"{max(missed_ages, default=0) * 1000:.1f} ms",
        ),
        (
            "  admin list_offsets below the acknowledged end",
            f"{listed_below} of {len(listed_ahead)}",
        ),
        (
            "  admin list_offsets round trip, median / max",
            f"{listed_median:.1f} / {listed_longest:.1f} ms",
        ),
    ]
    for label, value in rows:
        print(f"{label:<52}{value:>20}")


def list_end(admin: AdminClient, where: TopicPartition) -> int:
    """The partition's end (read committed, as the worker's consumer reads) by `list_offsets`."""
    futures = admin.list_offsets(
        {where: OffsetSpec.latest()},
        isolation_level=IsolationLevel.READ_COMMITTED,
        request_timeout=5,
    )
    return int(next(iter(futures.values())).result().offset)


if __name__ == "__main__":
    main()

"""The worker's start offsets: one lookup a partition, or one batched request? Timed side by side.

`streams.start_offsets` looks up where each unstored partition's log starts with the consumer's
`get_watermark_offsets`, one partition at a time (nine for the worker's three topics of three
partitions). An admin client's `list_offsets` with `OffsetSpec.earliest()` asks for all of them
in one request. Each round makes the clients as the worker does at its start (a fresh consumer;
an admin client that has just listed the topics' partitions), times each way on the embedded
broker with a day of traffic published, and checks that both answer the same offsets. The arms
alternate, first one then the other, round by round.

    .venv/bin/python benchmarks/bench_start_offsets.py [--rounds 15]
"""

import argparse
import os
import statistics
import time
from collections.abc import Callable

from confluent_kafka import TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec  # type: ignore[attr-defined]

from corridor.scenario import DEFAULT_START, load_scenario
from corridor.traffic.generator import generate
from streams.broker import EmbeddedBroker
from streams.clients import ensure_topics, make_admin, make_consumer, partitions_of
from streams.live.watermark import Partition
from streams.publish import publish
from streams.settings import KafkaSettings
from streams.start_offsets import start_offsets

EARLIEST = OffsetSpec.earliest()  # type: ignore[no-untyped-call]


def one_at_a_time(settings: KafkaSettings, partitions: list[Partition]) -> tuple[float, list[int]]:
    """`streams.start_offsets` on a fresh consumer: seconds, offsets."""
    consumer = make_consumer(settings)
    try:
        began = time.perf_counter()
        starts = start_offsets(consumer, partitions, {})
        return time.perf_counter() - began, [start.offset for start in starts]
    finally:
        consumer.close()


def batched(settings: KafkaSettings, partitions: list[Partition]) -> tuple[float, list[int]]:
    """One `list_offsets(earliest)` for every partition, on an admin client that has just
    listed the topics (as the worker's has): seconds, offsets."""
    admin = make_admin(settings)
    partitions_of(admin, settings.input_topics)
    began = time.perf_counter()
    futures = admin.list_offsets(
        {TopicPartition(topic, partition): EARLIEST for topic, partition in partitions},
        request_timeout=5.0,
    )
    answers = {(tp.topic, tp.partition): future.result().offset for tp, future in futures.items()}
    seconds = time.perf_counter() - began
    return seconds, [answers[where] for where in partitions]


ARMS: dict[str, Callable[[KafkaSettings, list[Partition]], tuple[float, list[int]]]] = {
    "get_watermark_offsets, one a partition": one_at_a_time,
    "list_offsets(earliest), one request": batched,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    stations = load_scenario(None).stations
    with EmbeddedBroker() as broker:
        settings = KafkaSettings(bootstrap_servers=broker.bootstrap_servers, group_id="starts")
        admin: AdminClient = make_admin(settings)
        ensure_topics(admin, settings, settings.input_topics)
        publish(list(generate(stations, days=1, seed=3, start=DEFAULT_START)), settings)
        partitions = partitions_of(admin, settings.input_topics)
        times: dict[str, list[float]] = {name: [] for name in ARMS}
        answers: dict[str, set[tuple[int, ...]]] = {name: set() for name in ARMS}
        names = list(ARMS)
        for round_ in range(args.rounds):
            for name in names if round_ % 2 == 0 else reversed(names):
                seconds, offsets = ARMS[name](settings, partitions)
                times[name].append(seconds)
                answers[name].add(tuple(offsets))
    print(f"{len(partitions)} partitions, {args.rounds} rounds, load {os.getloadavg()[0]:.1f}")
    for name in names:
        ms = sorted(1000 * seconds for seconds in times[name])
        print(f"{name:<42} median {statistics.median(ms):7.1f} ms  "
              f"min {ms[0]:6.1f}  max {ms[-1]:6.1f}  offsets {sorted(answers[name])}")  # fmt: skip
    first, second = (statistics.median(times[name]) for name in names)
    print(f"{'ratio (one a partition / one request)':<42} {first / second:.2f}")


if __name__ == "__main__":
    main()

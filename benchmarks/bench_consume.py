"""Benchmark: the worker's catch-up with its consume phase as on main before `streams.batch_read`
and `streams.start_offsets`, and with each of them, alternated on one backlog and broker.

The ways differ only in how the worker reads (`read_batch`: one `consume(n, timeout)`, which
waits out the timeout whenever the batch cannot fill, or what is queued at once) and where an
unstored partition starts (`start_offsets`: librdkafka's `OFFSET_BEGINNING`, which a fresh
consumer resolves after a 500 ms retry, or the log start looked up). Each round times the
engine alone, then one SQLite catch-up per way (the order rotates), and prints worker / engine,
the catch-up's consume phase, when the first message came (after `assign`, in the clock of the
catch-up), and the seconds spent in reads that returned a short batch after waiting out the
timeout (`waited`); then the medians over the rounds, and each way against main's.

The consume phase also holds the empty reads after the backlog's last message (the end of the
partitions settling, the quiet flush), which are not in the rate: `bench_worker.catch_up`
stops its clock at the last input.

Run: `.venv/bin/python benchmarks/bench_consume.py [--events 150000] [--rounds 3]`.
"""

import statistics
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bench_worker as bench  # type: ignore[import-not-found]
import workload  # type: ignore[import-not-found]
from confluent_kafka import OFFSET_BEGINNING, TopicPartition

import streams.worker
from api.store.sql_store import SqlStore
from streams.alignment import Alignment
from streams.batch_read import Consuming, read_batch
from streams.broker import EmbeddedBroker
from streams.live.watermark import Partition
from streams.publish import publish
from streams.settings import KafkaSettings
from streams.start_offsets import start_offsets

Read = Callable[..., Sequence[Any]]
Starts = Callable[..., list[TopicPartition]]


def one_call(consumer: Consuming[Any], limit: int, *, timeout: float) -> Sequence[Any]:
    """How the worker read before `streams.batch_read`: one call, waiting for a full batch."""
    return consumer.consume(limit, timeout=timeout)


def from_beginning(
    consumer: Any, partitions: Sequence[Partition], stored: Mapping[Partition, int]
) -> list[TopicPartition]:
    """Where the worker started before `streams.start_offsets`: librdkafka's logical offset."""
    return [TopicPartition(*where, stored.get(where, OFFSET_BEGINNING)) for where in partitions]


WAYS: dict[str, tuple[Read, Starts]] = {
    "main": (one_call, from_beginning),
    "batch_read": (read_batch, from_beginning),
    "both": (read_batch, start_offsets),
}


@dataclass
class Reads:
    """A way of reading, timed: each read's end, seconds and messages."""

    read: Read
    began: float
    reads: list[tuple[float, float, int]] = field(default_factory=list)
    timeout: float = 0.0

    def __call__(self, consumer: Consuming[Any], limit: int, *, timeout: float) -> Sequence[Any]:
        began = time.perf_counter()
        messages = self.read(consumer, limit, timeout=timeout)
        now = time.perf_counter()
        self.reads.append((now, now - began, len(messages)))
        self.timeout = timeout
        return messages

    def summary(self, limit: int) -> str:
        """When the first message came; seconds in short batches after waiting out the
        timeout (`waited`), in reads that found nothing before the last message (`stalled`)
        and after it (`tail`)."""
        with_messages = [end for end, _, n in self.reads if n]
        first, last = with_messages[0] - self.began, with_messages[-1]
        waited = sum(s for _, s, n in self.reads if 0 < n < limit and s >= self.timeout)
        stalled = sum(s for end, s, n in self.reads if not n and self.began + first < end < last)
        tail = sum(s for end, s, n in self.reads if not n and end > last)
        return (f"first message {first:.2f} s, waited {waited:.2f} s, stalled {stalled:.2f} s, "
                f"tail {tail:.2f} s")  # fmt: skip


PAUSED = [0]  # partitions paused by alignment so far (its `align` counted)


def count_pauses(align: Callable[[Alignment], None]) -> Callable[[Alignment], None]:
    def counted(self: Alignment) -> None:
        before = self.pauses
        align(self)
        PAUSED[0] += self.pauses - before

    return counted


def main() -> None:
    parser = workload.parser(__doc__)
    parser.add_argument("--events", type=int, default=150_000)
    parser.add_argument("--rounds", type=int, default=3)
    args, stations = workload.begin(parser, tune_gc=True)
    Alignment.align = count_pauses(Alignment.align)  # type: ignore[method-assign]
    ratios: dict[str, list[float]] = {way: [] for way in WAYS}
    with EmbeddedBroker() as broker, tempfile.TemporaryDirectory() as scratch:
        settings = KafkaSettings(
            bootstrap_servers=broker.bootstrap_servers, group_id="bench", quiet_after_s=0.5
        )
        published = publish(workload.backlog(stations, args.events, bench.SEED), settings).produced
        print(f"backlog: {published:,} events published; load average {bench.load()}")
        for round_ in range(args.rounds):
            engine = bench.engine_rate(stations, published)
            ways = list(WAYS)
            for way in ways[round_ % len(ways) :] + ways[: round_ % len(ways)]:
                read, starts = WAYS[way]
                db = Path(scratch) / f"twin-{round_}-{way}.db"
                store = SqlStore.open(f"sqlite:///{db}")
                reads = Reads(read, time.perf_counter())
                streams.worker.read_batch = reads  # type: ignore[assignment]
                streams.worker.start_offsets = starts
                worker, stats = bench.catch_up(
                    settings.model_copy(update={"group_id": db.stem}), stations, published, store
                )
                ratios[way].append(worker / engine)
                paused, PAUSED[0] = PAUSED[0], 0
                print(f"round {round_ + 1} {way:<10} engine {engine:>7,.0f} ev/s, worker "
                      f"{worker:>7,.0f} ev/s, worker / engine {worker / engine:.3f}; consume "
                      f"{stats.seconds['consume']:.2f} s: {reads.summary(settings.batch_size)}; "
                      f"partitions paused {paused}; phases {bench.phase_text(stats)}; "
                      f"load {bench.load()}")  # fmt: skip
    streams.worker.read_batch, streams.worker.start_offsets = read_batch, start_offsets
    medians = {way: statistics.median(values) for way, values in ratios.items()}
    for way, values in ratios.items():
        print(f"{'worker / engine, median, ' + way:<40}{medians[way]:>8.3f} "
              f"({', '.join(f'{v:.3f}' for v in values)}); / main's "
              f"{medians[way] / medians['main']:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()

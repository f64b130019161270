"""Benchmark: the worker's catch-up reading its batches as before (one `consume(n, timeout)`,
which waits out the timeout whenever the batch cannot fill) against `streams.batch_read`
(what is queued at once, waiting only when nothing is), alternated on one backlog and broker.

Each round times the engine alone, then one SQLite catch-up per way of reading (the first
alternates), and prints worker / engine for each, the catch-up's consume phase and, of it,
the reads that returned fewer messages than asked for after waiting (`waited`), and the
medians over the rounds. The consume phase also holds the empty reads after the backlog's
last message, which are not in the rate (`bench_worker.catch_up` stops its clock at the last
input); `waited` counts only reads that returned messages, which are.

Run: `.venv/bin/python benchmarks/bench_batch_read.py [--events 150000] [--rounds 3]`.
"""

import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bench_worker as bench  # type: ignore[import-not-found]
import workload  # type: ignore[import-not-found]

import streams.worker
from api.store.sql_store import SqlStore
from streams.batch_read import Consuming, read_batch
from streams.broker import EmbeddedBroker
from streams.publish import publish
from streams.settings import KafkaSettings

Read = Callable[..., Sequence[Any]]


def one_call(consumer: Consuming[Any], limit: int, *, timeout: float) -> Sequence[Any]:
    """How the worker read before `streams.batch_read`: one call, waiting for a full batch."""
    return consumer.consume(limit, timeout=timeout)


@dataclass
class Reads:
    """A way of reading, timed: seconds in reads that returned a short batch with messages."""

    read: Read
    waited_s: float = 0.0
    waited: int = 0

    def __call__(self, consumer: Consuming[Any], limit: int, *, timeout: float) -> Sequence[Any]:
        began = time.perf_counter()
        messages = self.read(consumer, limit, timeout=timeout)
        took = time.perf_counter() - began
        if 0 < len(messages) < limit and took >= timeout:
            self.waited_s += took
            self.waited += 1
        return messages


WAYS: dict[str, Read] = {"one call (main)": one_call, "batch_read": read_batch}


def main() -> None:
    parser = workload.parser(__doc__)
    parser.add_argument("--events", type=int, default=150_000)
    parser.add_argument("--rounds", type=int, default=3)
    args, stations = workload.begin(parser, tune_gc=True)
    ratios: dict[str, list[float]] = {way: [] for way in WAYS}
    with EmbeddedBroker() as broker, tempfile.TemporaryDirectory() as scratch:
        settings = KafkaSettings(
            bootstrap_servers=broker.bootstrap_servers, group_id="bench", quiet_after_s=0.5
        )
        published = publish(workload.backlog(stations, args.events, bench.SEED), settings).produced
        print(f"backlog: {published:,} events published; load average {bench.load()}")
        for round_ in range(args.rounds):
            engine = bench.engine_rate(stations, published)
            order = list(WAYS) if round_ % 2 == 0 else list(WAYS)[::-1]
            for way in order:
                reads = Reads(WAYS[way])
                streams.worker.read_batch = reads  # type: ignore[assignment]
                db = Path(scratch) / f"twin-{round_}-{len(ratios[way])}-{way[:3]}.db"
                mine = settings.model_copy(update={"group_id": db.stem})
                worker, stats = bench.catch_up(mine, stations, published, SqlStore.open(
                    f"sqlite:///{db}"))  # fmt: skip
                ratios[way].append(worker / engine)
                print(f"round {round_ + 1} {way:<16} engine {engine:>9,.0f} ev/s, worker "
                      f"{worker:>8,.0f} ev/s, worker / engine {worker / engine:.3f}; consume "
                      f"{stats.seconds['consume']:.2f} s, of it waited {reads.waited_s:.2f} s "
                      f"in {reads.waited} short reads; phases {bench.phase_text(stats)}; "
                      f"load {bench.load()}")  # fmt: skip
    streams.worker.read_batch = read_batch
    medians = {way: statistics.median(values) for way, values in ratios.items()}
    for way, values in ratios.items():
        print(f"{'worker / engine, median, ' + way:<48}{medians[way]:>8.3f} "
              f"({', '.join(f'{v:.3f}' for v in values)})")  # fmt: skip
    old, new = medians.values()
    print(f"{'batch_read / one call':<48}{new / old:>8.3f}")


if __name__ == "__main__":
    main()

"""Benchmark: the live worker's catch-up rate and its produce-to-KPI latency, on a real broker.

Starts the embedded broker, publishes a backlog of generated traffic (at least 1,000,000 events
by default) onto the three input topics, then measures in the same run:

1. the raw confluent-kafka consume rate of the backlog (messages only, no decoding);
2. the same with `decode_event` on every message (the validation cost);
3. the engine alone: `corridor.engine.twin.replay` of the same events, decoded, in memory;
4. the worker catching up on the whole backlog, end to end: consume, decode, reorder, apply,
   KPI snapshots, dead letters, and the atomic store commit (SQLite through `api.store.sql_store`);
   and the same with the in-memory store, the worker's ceiling without SQL; then two restarts on
   the caught-up SQL store (`restart_times.py`): a new worker from the twin snapshot the
   caught-up one stored as it stopped (the archive after it: none), and a full rebuild of the
   whole archive with the snapshots ignored (what a store without a usable snapshot costs);
5. latency at a steady 1,000 events/s: from producing an event to the first KPI snapshot on
   the `corridor.kpi` topic whose `as_of` covers its time (generated traffic, so 1,000 events/s
   is about 20,000 times event time; the 5-minute lateness and the 15-minute KPI cadence are in
   event time);
6. two workers in one consumer group against one, on another backlog (`bench_group.py`).

`--store-writer thread|process|both` says where the worker's store commits run (a thread of
the worker, or a writer process beside it: `streams.store_writer`); with `both` the SQL
catch-up and the latency section run once per writer, alternated, and print side by side.
`--catch-up-only` runs only the engine alone and the SQL catch-up, `--rounds` times each,
alternated, with the medians of worker / engine per writer (and, for the process writer, what
handing the batches over cost the worker: pickling and sending, µs an event).

The latency section (`live_latency.py`) also prints where the worker's time went meanwhile
(its phases, from the worker process's last progress line), how many distinct KPI moments the
reader saw, and the mean cost of one. `--latency-only` runs that section alone (for A/B runs
between commits: put the other commit's tree on `PYTHONPATH`, the worker process inherits it).

Run: `.venv/bin/python benchmarks/bench_worker.py [--events N] [--latency-seconds S]
[--latency-only] [--catch-up-only --rounds N] [--store-writer both]`.
"""

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
import workload  # type: ignore[import-not-found]
from bench_group import group_rates, print_rates  # type: ignore[import-not-found]
from confluent_kafka import OFFSET_BEGINNING, KafkaError, TopicPartition
from live_latency import latency  # type: ignore[import-not-found]
from restart_times import Restarts, time_restarts  # type: ignore[import-not-found]

from api.store.sql_store import SqlStore
from corridor.contract.events import decode_event
from corridor.engine.twin import replay
from corridor.store_contract import TwinStore
from streams.broker import EmbeddedBroker
from streams.clients import make_admin, make_consumer, partitions_of
from streams.connect import connect_worker
from streams.live.memory_store import MemoryStore
from streams.phase_timer import PHASES
from streams.publish import publish
from streams.settings import KafkaSettings
from streams.worker import WorkerStats

SEED = 2026


def main() -> None:
    parser = workload.parser(__doc__)
    parser.add_argument("--events", type=int, default=1_000_000, help="backlog size (at least)")
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=1000.0, help="events/s for the latency run")
    parser.add_argument(
        "--poll-timeout-s",
        type=float,
        default=None,
        help="the latency worker's CORRIDOR_KAFKA_POLL_TIMEOUT_S (default: the worker's own; "
        "before the first-message wait the benchmark used 0.01, which hid the batch wait)",
    )
    parser.add_argument("--group-events", type=int, default=150_000, help="group backlog size")
    parser.add_argument("--latency-only", action="store_true", help="only the latency section")
    parser.add_argument(
        "--end-settle-s",
        type=float,
        default=KafkaSettings().end_settle_s,
        help="the latency worker's CORRIDOR_KAFKA_END_SETTLE_S (default: the worker's)",
    )
    parser.add_argument(
        "--end-confirm",
        choices=("on", "off"),
        default=None,
        help="the latency worker's CORRIDOR_KAFKA_END_CONFIRM (default: the worker's; a tree "
        "without it ignores it)",
    )
    parser.add_argument(
        "--reader",
        choices=("poll", "consume"),
        default="poll",
        help="how the KPI reader reads: each message as it arrives (poll), or as before in "
        "batches of `consume(1000, timeout=0.05)`, which holds what arrived until the timeout",
    )
    parser.add_argument("--trace", type=Path, help="keep the latency worker's step trace here")
    parser.add_argument(
        "--store-writer",
        choices=("thread", "process", "both"),
        default=KafkaSettings().store_writer,
        help="where the worker's store commits run (both: each, alternated; default: the worker's)",
    )
    parser.add_argument("--catch-up-only", action="store_true", help="engine and SQL catch-up")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of --catch-up-only")
    args, stations = workload.begin(parser, tune_gc=True)  # the GC: for every figure below
    writers = ["thread", "process"] if args.store_writer == "both" else [args.store_writer]
    if args.latency_only:
        with EmbeddedBroker() as broker, tempfile.TemporaryDirectory() as scratch:
            for writer in writers:
                latency(broker, args, Path(scratch) / f"live-{writer}.db", writer)
        return
    if args.catch_up_only:
        catch_up_rounds(stations, args, writers)
        return
    with EmbeddedBroker() as broker, tempfile.TemporaryDirectory() as scratch:
        settings = KafkaSettings(
            bootstrap_servers=broker.bootstrap_servers, group_id="bench", quiet_after_s=0.5
        )
        began = time.perf_counter()
        backlog = workload.backlog(stations, args.events, SEED)
        published = publish(backlog, settings).produced
        days = workload.days_for(args.events)
        print(f"backlog: {published:,} events ({days} days, 3 yards) published "
              f"in {time.perf_counter() - began:.1f} s")  # fmt: skip
        raw = consume_rate(settings, decode=False)
        decoded = consume_rate(settings, decode=True)
        engine = engine_rate(stations, published)  # the whole backlog: an old twin, as the worker's
        runs = {}
        for writer in writers:
            sql_store = SqlStore.open(f"sqlite:///{Path(scratch) / f'twin-{writer}.db'}")
            runs[writer] = catch_up(settings.model_copy(update={"store_writer": writer}),
                                    stations, published, sql_store)  # fmt: skip
        restarts = time_restarts(
            lambda: connect_worker(settings, sql_store, stations, SEED), sql_store, stations, SEED
        )
        in_memory, _ = catch_up(settings, stations, published, MemoryStore())
        print()
        print(f"{'raw consume (confluent-kafka, no decode)':<48}{raw:>12,.0f} msg/s")
        print(f"{'consume + decode_event':<48}{decoded:>12,.0f} msg/s")
        print(f"{'engine alone (replay in memory)':<48}{engine:>12,.0f} ev/s")
        for writer, (worker, stats) in runs.items():
            print(f"worker catch-up, store writer: {writer}")
            print_catch_up(worker, stats, raw=raw, engine=engine)
        print(f"{'the same, in-memory store (no SQL: a ceiling)':<48}{in_memory:>12,.0f} ev/s")
        print_restarts(restarts)
        for writer in writers:
            latency(broker, args, Path(scratch) / f"live-{writer}.db", writer)
        print_rates(*group_rates(broker, args.group_events, partitions=12, repeats=3)[""])


def print_catch_up(worker: float, stats: WorkerStats, *, raw: float, engine: float) -> None:
    """One catch-up's rate, its ratios, and where its time went (the worker loop's phases)."""
    print(f"{'  worker catch-up, end to end (decode -> KPI)':<48}{worker:>12,.0f} ev/s")
    print(f"{'  worker / raw consume':<48}{worker / raw:>12.3f}")
    print(f"{'  worker / engine alone':<48}{worker / engine:>12.3f}")
    print(f"{'  KPI snapshots written during catch-up':<48}{stats.snapshots:>12,}")
    total = sum(stats.seconds.values())
    for phase in PHASES:
        seconds = stats.seconds[phase]
        label = f"  catch-up time in {phase}"
        print(f"{label:<48}{seconds:>10.1f} s ({seconds / total:>4.0%})")


def catch_up_rounds(stations: Any, args: argparse.Namespace, writers: list[str]) -> None:
    """The engine alone and the SQL catch-up per writer, `args.rounds` times, alternated (the
    first writer of each round changes, so neither always runs first); then the medians."""
    ratios: dict[str, list[float]] = {writer: [] for writer in writers}
    cpu: dict[str, dict[str, list[float]]] = {
        writer: {"worker": [], "writer": [], "handover": []} for writer in writers
    }
    with EmbeddedBroker() as broker, tempfile.TemporaryDirectory() as scratch:
        settings = KafkaSettings(
            bootstrap_servers=broker.bootstrap_servers, group_id="bench", quiet_after_s=0.5
        )
        published = publish(workload.backlog(stations, args.events, SEED), settings).produced
        print(f"backlog: {published:,} events published; load average {load()}")
        for round_ in range(args.rounds):
            engine = engine_rate(stations, published)
            order = writers if round_ % 2 == 0 else writers[::-1]
            for writer in order:
                db = Path(scratch) / f"twin-{round_}-{writer}.db"
                mine = settings.model_copy(update={"store_writer": writer, "group_id": db.stem})
                store = SqlStore.open(f"sqlite:///{db}")
                worker, stats = catch_up(mine, stations, published, store, cpu[writer])
                ratios[writer].append(worker / engine)
                used = ", ".join(f"{k} {v[-1]:.1f}" for k, v in cpu[writer].items() if v)
                print(f"round {round_ + 1} {writer:<8} engine {engine:>9,.0f} ev/s, worker "
                      f"{worker:>9,.0f} ev/s, worker / engine {worker / engine:.3f}, phases "
                      f"{phase_text(stats)}; CPU µs/ev {used}; load {load()}")  # fmt: skip
    for writer, values in ratios.items():
        print(f"{'worker / engine, median, ' + writer:<48}{statistics.median(values):>12.3f} "
              f"({', '.join(f'{v:.3f}' for v in values)})")  # fmt: skip
        for part, used in cpu[writer].items():
            if used:
                label = f"  CPU µs/event, median, {part}"
                print(f"{label:<48}{statistics.median(used):>12.1f}")


def phase_text(stats: WorkerStats) -> str:
    return " ".join(f"{phase} {stats.seconds[phase]:.1f}" for phase in PHASES)


def load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def print_restarts(restarts: Restarts) -> None:
    """The two restarts of `restart_times`, labelled apart, and their ratio."""
    snapshot_s, rebuild_s, entries = restarts.snapshot_s, restarts.rebuild_s, restarts.entries
    tail, size = restarts.tail, restarts.snapshot_mb
    print(f"{'restart from the stored twin snapshot':<48}{snapshot_s:>10.2f} s "
          f"({tail:,} entries replayed after it, {size:.1f} MB)")  # fmt: skip
    print(f"{'restart by full rebuild (snapshots ignored)':<48}{rebuild_s:>10.1f} s "
          f"({entries:,} entries, {entries / rebuild_s:,.0f}/s)")  # fmt: skip
    print(f"{'  full rebuild / snapshot restart':<48}{restarts.ratio:>12.1f}")


def consume_rate(settings: KafkaSettings, *, decode: bool) -> float:
    """Messages/s reading every input partition from the start to its end."""
    consumer = make_consumer(settings, extra={"group.id": f"bench-raw-{decode}"})
    partitions = partitions_of(make_admin(settings), settings.input_topics)
    consumer.assign([TopicPartition(t, p, OFFSET_BEGINNING) for t, p in partitions])
    waiting, count, began = set(partitions), 0, None
    while waiting:
        for message in consumer.consume(10_000, timeout=1.0):
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    waiting.discard((message.topic(), message.partition()))
                continue
            began = began or time.perf_counter()
            count += 1
            if decode:
                decode_event(message.value() or b"")
    elapsed = time.perf_counter() - (began or time.perf_counter())
    consumer.close()
    return count / elapsed


def engine_rate(stations: Any, count: int) -> float:
    """Events/s of the engine alone on the first `count` events (already decoded)."""
    events = list(workload.backlog(stations, count, SEED))
    began = time.perf_counter()
    replay(events, stations, SEED)
    return len(events) / (time.perf_counter() - began)


def catch_up(
    settings: KafkaSettings,
    stations: Any,
    total: int,
    store: TwinStore,
    cpu: dict[str, list[float]] | None = None,
) -> tuple[float, WorkerStats]:
    """The worker from an empty store through the whole backlog, until its final snapshot.

    `cpu` (if given) gets µs of CPU an event: "worker" (this process, every thread: the loop,
    a commit thread, librdkafka's), "writer" (a writer process's, opening aside) and
    "handover" (the loop's encoding of batches for a writer process)."""
    worker = connect_worker(settings, store, stations, SEED)
    worker.start()
    commits = worker.commits.inner  # `ProcessCommits` or `OrderedCommits`, under the carrying
    opened = getattr(commits, "opened", None)
    if opened is not None:
        opened()  # a writer process opened its store (a second or two): not catch-up
    writer = getattr(commits, "process", None)
    writer_cpu = psutil.Process(writer.pid) if writer is not None else None
    writer_began = sum(writer_cpu.cpu_times()[:2]) if writer_cpu is not None else 0.0
    began, cpu_began = time.perf_counter(), time.process_time()
    last_report = began
    while not (worker.stats.consumed >= total and worker.idle_for() > 0):
        worker.step()
        if time.perf_counter() - last_report > 10:
            rate = worker.stats.consumed / (time.perf_counter() - began)
            print(f"  catch-up: {worker.stats.consumed:,} consumed, {rate:,.0f} ev/s")
            last_report = time.perf_counter()
    elapsed = time.perf_counter() - began - worker.idle_for()
    consumed = worker.stats.consumed
    if cpu is not None:
        cpu["worker"].append((time.process_time() - cpu_began) / consumed * 1e6)
        if writer_cpu is not None:
            writer_s = sum(writer_cpu.cpu_times()[:2]) - writer_began
            cpu["writer"].append(writer_s / consumed * 1e6)
            cpu["handover"].append(getattr(commits, "handover_s", 0.0) / consumed * 1e6)
    worker.close()
    return consumed / elapsed, worker.stats


if __name__ == "__main__":
    main()

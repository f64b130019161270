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

The latency section also prints where the worker's time went meanwhile (its phases, from the
worker process's last progress line), how many distinct KPI moments the reader saw, and the
mean cost of one. `--latency-only` runs that section alone (for A/B runs between commits: put
the other commit's tree on `PYTHONPATH`, the worker process inherits it).

Run: `.venv/bin/python benchmarks/bench_worker.py [--events N] [--latency-seconds S]
[--latency-only] [--catch-up-only --rounds N] [--store-writer both]`.
"""

import argparse
import bisect
import itertools
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import psutil
import workload  # type: ignore[import-not-found]
from bench_group import group_rates, print_rates  # type: ignore[import-not-found]
from confluent_kafka import OFFSET_BEGINNING, KafkaError, TopicPartition
from latency_parts import decompose, read_steps, report  # type: ignore[import-not-found]
from restart_times import Restarts, time_restarts  # type: ignore[import-not-found]

from api.store.sql_store import SqlStore
from corridor.contract.events import decode_event, encode_event
from corridor.engine.twin import replay
from corridor.scenario import load_scenario
from corridor.store_contract import TwinStore
from streams.broker import EmbeddedBroker
from streams.clients import ensure_topics, make_admin, make_consumer, make_producer, partitions_of
from streams.connect import connect_worker
from streams.live.memory_store import MemoryStore
from streams.live.reorder import to_micros
from streams.phase_timer import PHASES
from streams.publish import publish
from streams.settings import KafkaSettings
from streams.topics import key_for, topic_for
from streams.worker import WorkerStats

SEED = 2026


def main() -> None:
    parser = workload.parser(__doc__)
    parser.add_argument("--events", type=int, default=1_000_000, help="backlog size (at least)")
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=1000.0, help="events/s for the latency run")
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
    opened = getattr(worker.commits, "opened", None)
    if opened is not None:
        opened()  # a writer process opened its store (a second or two): not catch-up
    writer = getattr(worker.commits, "process", None)
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
            cpu["handover"].append(getattr(worker.commits, "handover_s", 0.0) / consumed * 1e6)
    worker.close()
    return consumed / elapsed, worker.stats


WORKER_PROCESS = (
    "import sys; from api.store.sql_store import SqlStore; from streams.cli import main; "
    "sys.exit(main(sys.argv[1:], open_store=SqlStore.open))"
)


def latency(broker: EmbeddedBroker, args: argparse.Namespace, db: Path, writer: str) -> None:
    """Produce at `args.rate` events/s for `args.latency_seconds` to a live worker process;
    time until a KPI snapshot covers each event.

    The worker is a `corridor worker` process on the SQL store, as deployed; the producer and
    the KPI reader are other programs (threads of this one). `args.end_settle_s` is the
    worker's end-of-partition settling time (`streams.live.watermark`): a sparse partition
    (a yard's trains, a few events a second here) held the watermark at its last event for
    that long after each one, most of the latency on a quiet machine (`docs/performance.md`),
    until the end was confirmed by a fresh `list_offsets` (`args.end_confirm`,
    `streams.partition_ends`): the settling time now decides only without an answer.
    """
    rate, seconds = args.rate, args.latency_seconds
    # `bench_worker_ab.py`'s namespace has neither option: its defaults then
    trace_path = getattr(args, "trace", None) or db.parent / "steps.jsonl"
    prompt = getattr(args, "reader", "poll") == "poll"
    settings = KafkaSettings(
        bootstrap_servers=broker.bootstrap_servers,
        group_id=f"bench-{db.stem}",
        **workload.own_topics(db.stem),  # each writer's run its own topics, in one broker
        poll_timeout_s=0.01,
        lateness=timedelta(minutes=5),
        end_settle_s=args.end_settle_s,
        **confirming(getattr(args, "end_confirm", None)),  # not in bench_worker_ab.py's
        **tracing(trace_path),
        **writing(writer),
    )
    print(f"latency, store writer: {writer}; load average {load()}")
    ensure_topics(make_admin(settings), settings, settings.all_topics)
    trace_path.unlink(missing_ok=True)  # the worker appends to it
    env = {**os.environ, **{f"CORRIDOR_KAFKA_{k.upper()}": v for k, v in env_values(settings)}}
    # -P: the tree on PYTHONPATH, not the current directory's, is the worker's code (with -c the
    # current directory comes first, so an A/B run from one checkout ran its code in both arms)
    command = [sys.executable, "-P", "-c", WORKER_PROCESS, "worker", "--seed", str(SEED)]
    command += ["--exit-with-parent"]  # a benchmark that dies takes its workers with it
    command += ["--store", f"sqlite:///{db}"]
    worker = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    assert worker.stderr is not None
    for line in worker.stderr:  # wait until it has its partitions
        if ": assigned {" in line:  # its partitions, not the settings line's membership
            break
    stop = threading.Event()
    seen: list[tuple[int, float]] = []  # (as_of micros, wall time seen)
    watch = (settings, stop, seen, prompt)
    watcher = threading.Thread(target=watch_kpis, args=watch, daemon=True)
    watcher.start()
    time.sleep(1.0)
    stations = load_scenario(None).stations
    sent = produce_steady(settings, stations, rate, seconds)
    time.sleep(2.0)
    stop.set()
    watcher.join(10)
    worker.send_signal(signal.SIGTERM)
    _out, log = worker.communicate(timeout=120)  # its final commit, slow on a loaded machine
    report_latency(covered_after(sent, seen), rate)
    report_breakdown(log, seen, seconds)
    steps = read_steps(trace_path)
    report(decompose(sent, seen, steps), steps)
    print(f"{'  KPI reader':<48}{'poll' if prompt else 'consume':>12}")
    settle = args.end_settle_s * 1000
    print(f"{'  end-of-partition settling (worker setting)':<48}{settle:>12.0f} ms")
    confirmed = getattr(settings, "end_confirm", "absent")  # a tree before the confirmed end
    print(f"{'  end confirmed by list_offsets (worker setting)':<48}{confirmed!s:>12}")


def tracing(path: Path) -> dict[str, Path]:
    """`step_trace` for the latency worker's settings, if this tree's worker can trace."""
    return {"step_trace": path} if "step_trace" in KafkaSettings.model_fields else {}


def writing(writer: str) -> dict[str, str]:
    """`store_writer` for the latency worker's settings, if this tree knows the setting."""
    return {"store_writer": writer} if "store_writer" in KafkaSettings.model_fields else {}


def confirming(choice: str | None) -> dict[str, bool]:
    """`end_confirm` for the latency worker's settings, if chosen and known to this tree."""
    if choice is None or "end_confirm" not in KafkaSettings.model_fields:
        return {}
    return {"end_confirm": choice == "on"}


PHASE_LINE = re.compile(r"seconds in (.*)$", re.MULTILINE)


def report_breakdown(log: str, seen: list[tuple[int, float]], seconds: float) -> None:
    """The worker's phases over the latency run (its last progress line) and its KPI moments:
    how many the reader saw, how far apart in wall time, and what one cost the worker."""
    moments = sorted(dict(reversed(seen)).values())  # each moment when first seen
    gaps = [later - earlier for earlier, later in itertools.pairwise(moments)]
    print(f"{'  distinct KPI moments seen':<48}{len(moments):>12,}")
    if gaps:
        print(f"{'  wall time between them, median':<48}{statistics.median(gaps) * 1000:>12.0f} ms")
    lines = PHASE_LINE.findall(log)
    if not lines:
        print("  worker phases: no progress line in its log")
        return
    phases = dict(part.rsplit(" ", 1) for part in lines[-1].split(", "))
    print(f"  worker phases (s, over about {seconds + 3:.0f} s): {lines[-1]}")
    if moments:
        each = float(phases.get("snapshots", "nan")) / len(moments) * 1000
        print(f"{'  snapshot cost per KPI moment (worker log)':<48}{each:>12.0f} ms")


def env_values(settings: KafkaSettings) -> Iterator[tuple[str, str]]:
    for name, value in settings.model_dump(exclude={"sasl_password", "extra_config"}).items():
        if value is not None:
            yield (
                name,
                f"PT{value.total_seconds()}S" if isinstance(value, timedelta) else str(value),
            )


def report_latency(latencies: list[float], rate: float) -> None:
    if not latencies:
        print("latency: no KPI snapshot seen")
        return
    cuts = statistics.quantiles(latencies, n=100)
    print(f"{'latency produce -> KPI visible, p50':<48}{cuts[49] * 1000:>12.0f} ms")
    print(f"{'latency produce -> KPI visible, p99':<48}{cuts[98] * 1000:>12.0f} ms")
    print(f"{'  events timed (steady ' + f'{rate:,.0f}/s)':<48}{len(latencies):>12,}")


def produce_steady(
    settings: KafkaSettings, stations: Any, rate: float, seconds: float
) -> list[tuple[int, float]]:
    """(event time micros, wall time produced) of each event, at `rate` events/s."""
    producer = make_producer(settings, extra={"linger.ms": 1})
    sent: list[tuple[int, float]] = []
    began = time.perf_counter()
    days = int(rate * seconds / workload.EVENTS_PER_DAY) + 2
    for index, event in enumerate(workload.traffic(stations, days, SEED)):
        due = began + index / rate
        if due > began + seconds:
            break
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        producer.produce(topic_for(event, settings), encode_event(event), key_for(event))
        producer.poll(0)
        sent.append((to_micros(event.ts), time.perf_counter()))
    producer.flush(10)
    return sent


def watch_kpis(
    settings: KafkaSettings, stop: threading.Event, seen: list[tuple[int, float]], prompt: bool
) -> None:
    """The KPI reader: `(as_of, when seen)` of each snapshot message. `prompt`: `poll`, which
    returns a message as soon as it is there; else `consume(1000, timeout=0.05)`, which returns
    only when it has 1,000 messages or the 50 ms are over, so every message it returns is
    stamped as late as the timeout (the reader's own delay, up to 50 ms, in the latency)."""
    consumer = make_consumer(settings, extra={"group.id": "bench-kpi"})
    partitions = [(settings.topic_kpi, p) for p in range(settings.partitions)]
    consumer.assign([TopicPartition(t, p, OFFSET_BEGINNING) for t, p in partitions])
    decoder = msgspec.json.Decoder()
    while not stop.is_set():
        messages = [consumer.poll(0.05)] if prompt else consumer.consume(1000, timeout=0.05)
        for message in messages:
            if message is not None and message.error() is None:
                snapshot = decoder.decode(message.value() or b"{}")
                as_of = to_micros(datetime.fromisoformat(snapshot["as_of"]))
                seen.append((as_of, time.perf_counter()))
    consumer.close()


def covered_after(sent: list[tuple[int, float]], seen: list[tuple[int, float]]) -> list[float]:
    """For each event, seconds from produce until the first snapshot with as_of >= its time."""
    seen = sorted(seen, key=lambda item: item[1])
    newest: list[int] = []  # running maximum of as_of, in the order snapshots were seen
    for as_of, _wall in seen:
        newest.append(max(as_of, newest[-1]) if newest else as_of)
    latencies = []
    for ts, produced in sent:
        first = bisect.bisect_left(newest, ts)
        if first < len(seen):
            latencies.append(max(0.0, seen[first][1] - produced))
    return latencies


if __name__ == "__main__":
    main()

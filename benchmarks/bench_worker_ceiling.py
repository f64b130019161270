"""Benchmark: what bounds the worker / engine ratio on this machine, part by part, in CPU time.

Issue 14 asks the worker's catch-up for at least 0.6 of the engine alone's rate. On the
embedded broker, on one backlog, this measures in CPU µs an event (each part alone, `--repeat`
times, medians) what a catch-up cannot do without:

- **consume**: confluent-kafka reading the whole backlog in Python (`consume(10_000)`, no
  decoding): the main thread's CPU in the calls, librdkafka's own threads (the rest of this
  process's CPU meanwhile) and the broker's processes (their CPU meanwhile);
- **decode**: `decode_event` on every message's bytes (already consumed);
- **engine alone**: `corridor.engine.twin.replay` of the decoded events;
- **the worker's catch-up** (SQLite store, on the broker, as `bench_worker.py`'s): wall time,
  its main thread, the store's commit thread, librdkafka's threads and the broker's CPU.

Then the bound: the worker's rate is at most one event per (its main thread + commit thread)
CPU, both holding the GIL in turns; librdkafka and the broker run beside them on the other core.
It prints the ratio that bound allows with the measured parts (consume's main-thread part,
decode, engine, commit) and nothing else, and what the rest of the main thread would have to
fit in for 0.6.

    .venv/bin/python benchmarks/bench_worker_ceiling.py [--events 100000] [--repeat 3]
"""

import argparse
import statistics
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any, NamedTuple

import psutil
import workload  # type: ignore[import-not-found]
from bench_worker import SEED  # type: ignore[import-not-found]
from bench_worker_inprocess import CommitTimedStore  # type: ignore[import-not-found]
from confluent_kafka import OFFSET_BEGINNING, KafkaError, TopicPartition

from api.store.sql_store import SqlStore
from corridor.contract.events import Event, decode_event
from corridor.engine.twin import replay
from corridor.runtime import tune_gc_for_a_long_lived_twin
from corridor.scenario import load_scenario
from corridor.store_contract import TwinBatch
from streams.broker import EmbeddedBroker
from streams.clients import make_admin, make_consumer, partitions_of
from streams.connect import connect_worker
from streams.publish import publish
from streams.settings import KafkaSettings


class Cpu(NamedTuple):
    """CPU seconds of one measured part: wall, this thread, this process, the broker."""

    wall: float
    thread: float
    process: float
    broker: float


def broker_cpu(pid: int | None) -> float:
    """CPU seconds so far of the broker's process and its children."""
    if pid is None:
        return 0.0
    root = psutil.Process(pid)
    total = 0.0
    for process in [root, *root.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def timed(broker: EmbeddedBroker, work: Callable[[], Any]) -> tuple[Cpu, Any]:
    """Run `work`, and what it cost: wall, this thread's, this process's and the broker's CPU."""
    marks = (time.perf_counter(), time.thread_time(), time.process_time(), broker_cpu(broker.pid))
    result = work()
    ends = (time.perf_counter(), time.thread_time(), time.process_time(), broker_cpu(broker.pid))
    return Cpu(*(end - mark for end, mark in zip(ends, marks, strict=True))), result


def consume_all(settings: KafkaSettings, group: str) -> tuple[list[bytes], float]:
    """Every message's bytes, from the start of each input partition to its end, and the
    main thread's CPU seconds inside `consume` (the client's Python side)."""
    consumer = make_consumer(settings, extra={"group.id": group})
    partitions = partitions_of(make_admin(settings), settings.input_topics)
    consumer.assign([TopicPartition(t, p, OFFSET_BEGINNING) for t, p in partitions])
    waiting, values, inside = set(partitions), [], 0.0
    while waiting:
        began = time.thread_time()
        messages = consumer.consume(10_000, timeout=1.0)
        inside += time.thread_time() - began
        for message in messages:
            error = message.error()
            if error is None:
                values.append(message.value() or b"")
            elif error.code() == KafkaError._PARTITION_EOF:
                waiting.discard((message.topic(), message.partition()))
    consumer.close()
    return values, inside


def decode_all(values: list[bytes]) -> None:
    for value in values:
        decode_event(value)


class CatchUp(NamedTuple):
    """One catch-up's cost: the whole (`cpu`, `thread` the main thread's), the store commits'
    in the main thread (a batch committed in the foreground) and in the commit thread."""

    cpu: Cpu
    commit_main_s: float
    commit_thread_s: float


class ThreadTimedStore(CommitTimedStore):  # type: ignore[misc]
    """`CommitTimedStore`, its commits' CPU split: in the main thread, in any other."""

    def __init__(self, store: SqlStore) -> None:
        super().__init__(store)
        self.main_s = 0.0

    def commit(self, batch: TwinBatch) -> None:
        before = self.commit_cpu_s
        super().commit(batch)
        if threading.current_thread() is threading.main_thread():
            self.main_s += self.commit_cpu_s - before


def catch_up(
    broker: EmbeddedBroker, settings: KafkaSettings, stations: Any, total: int, db: Path
) -> CatchUp:
    """The worker from an empty SQLite store through the backlog (as `bench_worker.py`'s)."""
    store = ThreadTimedStore(SqlStore.open(f"sqlite:///{db}"))
    worker = connect_worker(settings, store, stations, SEED)  # type: ignore[arg-type]
    worker.start()

    def work() -> None:
        while not (worker.stats.consumed >= total and worker.idle_for() > 0):
            worker.step()
        worker.commits.wait()

    cpu, _ = timed(broker, work)
    idle = worker.idle_for()  # the quiet wait at the end is not catch-up
    worker.close()
    commits = store.commit_cpu_s
    return CatchUp(cpu._replace(wall=cpu.wall - idle), store.main_s, commits - store.main_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each part (alternated)")
    args = parser.parse_args()
    tune_gc_for_a_long_lived_twin()  # as `corridor worker` does, for every part alike
    stations = load_scenario(None).stations
    with EmbeddedBroker() as broker, TemporaryDirectory() as scratch:
        settings = KafkaSettings(
            bootstrap_servers=broker.bootstrap_servers, group_id="bench", quiet_after_s=0.5
        )
        count = publish(workload.backlog(stations, args.events, SEED), settings).produced
        events: list[Event] = list(workload.backlog(stations, count, SEED))
        consumes, decodes, engines, workers = [], [], [], []
        for run in range(args.repeat):  # the parts alternate, so a slow minute hits them all
            cpu, (values, inside) = timed(broker, partial(consume_all, settings, f"raw-{run}"))
            consumes.append((cpu, inside))
            decoding, _ = timed(broker, partial(decode_all, values))
            decodes.append(decoding)
            engine, _ = timed(broker, partial(replay, events, stations, SEED))
            engines.append(engine)
            run_settings = settings.model_copy(update={"group_id": f"bench-{run}"})
            db = Path(scratch) / f"twin-{run}.db"
            workers.append(catch_up(broker, run_settings, stations, count, db))
        report(count, args.repeat, consumes, decodes, engines, workers)


def report(
    count: int,
    repeat: int,
    consumes: list[tuple[Cpu, float]],
    decodes: list[Cpu],
    engines: list[Cpu],
    workers: list[CatchUp],
) -> None:
    def us(values: list[float]) -> float:
        return statistics.median(values) / count * 1e6

    consume_main = us([inside for _cpu, inside in consumes])
    consume_threads = us([cpu.process - cpu.thread for cpu, _inside in consumes])
    consume_broker = us([cpu.broker for cpu, _inside in consumes])
    decode, engine = us([cpu.thread for cpu in decodes]), us([cpu.thread for cpu in engines])
    engine_wall = us([cpu.wall for cpu in engines])
    wall = us([run.cpu.wall for run in workers])
    main_thread = us([run.cpu.thread - run.commit_main_s for run in workers])
    commit = us([run.commit_main_s + run.commit_thread_s for run in workers])
    threads = us([run.cpu.process - run.cpu.thread - run.commit_thread_s for run in workers])
    broker = us([run.cpu.broker for run in workers])
    print(f"{count:,} events on the embedded broker, {repeat} runs of each part, medians")
    print(f"{psutil.cpu_count()} cores, load average {psutil.getloadavg()[0]:.1f} at the end")
    print("CPU µs an event:")
    rows = [
        ("consume: main thread (the client's Python side)", consume_main),
        ("consume: librdkafka's threads", consume_threads),
        ("consume: the broker", consume_broker),
        ("decode_event", decode),
        ("engine alone (replay)", engine),
        ("worker catch-up: wall time", wall),
        ("worker: main thread, less the store's commits", main_thread),
        ("worker: the store's commits (SQLite; most in its thread)", commit),
        ("worker: librdkafka's threads", threads),
        ("worker: the broker", broker),
    ]
    for name, value in rows:
        print(f"  {name:<50}{value:>8.2f}")
    floor = consume_main + decode + engine + commit  # what the GIL serializes at the least
    rest = main_thread - consume_main - decode - engine
    print(f"worker / engine: wall time {engine_wall / wall:.3f}, CPU (engine alone against the "
          f"worker's main thread and commits) {engine / (main_thread + commit):.3f}")  # fmt: skip
    print(f"the floor: consume (main) + decode + engine + commit = {floor:.2f} µs an event")
    print(f"  the best worker / engine with nothing else in the worker: {engine / floor:.3f}")
    print(f"  the worker's main thread beyond consume, decode and engine: {rest:.2f} µs")
    needed = engine / 0.6 - floor
    print(f"  0.6 leaves {needed:.2f} µs an event for it (the engine's {engine:.2f} / 0.6 "
          f"= {engine / 0.6:.2f}, less the floor)")  # fmt: skip


if __name__ == "__main__":
    main()

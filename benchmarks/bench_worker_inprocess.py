"""Benchmark: the worker's catch-up against the engine alone, without a broker, in CPU time.

`bench_worker.py` measures the real thing (broker, librdkafka, wall time); on a shared 2-core
machine its figures move by a third from run to run. This one keeps what the worker itself
does (decode, checks, reorder buffer, reefer alerts, engine, KPI and twin snapshots, the SQLite
commit thread) and drops the broker: the worker reads generated events from in-process clients
(`inprocess_worker.py`, which encodes each as `corridor publish` would: that encoding is
timed under `consume`). Times are the process's CPU time (both threads), and the engine alone
and the worker alternate `--repeat` times on the same events: it prints the medians and
the ratio of the medians, and the worker's phases (wall time shares) in its median run.

It also splits the worker's CPU time: the store's commit thread (`streams.commits`, timed in
its own thread), the feed's encoding (the in-process consumer's `consume`: what a broker client
does in C, outside the worker's Python) and the rest of the main thread (decode, checks,
engine, snapshots), each in µs an event beside the engine alone's. A ratio of 0.6 needs the
three together under 1.67 times the engine alone.

    .venv/bin/python benchmarks/bench_worker_inprocess.py [--events 100000] [--repeat 3]
"""

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

import workload  # type: ignore[import-not-found]
from inprocess_worker import catch_up, inprocess_worker  # type: ignore[import-not-found]

from api.store.sql_store import SqlStore
from corridor.contract.events import Event
from corridor.engine.twin import replay
from corridor.store_contract import TwinBatch
from streams.phase_timer import PHASES
from streams.settings import KafkaSettings

SEED = 2026


def engine_seconds(events: list[Event], stations: Any) -> float:
    began = time.process_time()
    replay(events, stations, SEED)
    return time.process_time() - began


class CommitTimedStore:
    """A store whose `commit` counts its CPU time in the thread that runs it (the commit
    thread while catching up); everything else goes to the store as it is."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self.commit_cpu_s = 0.0

    def commit(self, batch: TwinBatch) -> None:
        began = time.thread_time()
        try:
            self.store.commit(batch)
        finally:
            self.commit_cpu_s += time.thread_time() - began

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


class WorkerRun(NamedTuple):
    """One catch-up: CPU seconds in all, of the commit thread, of the feed; phases' seconds."""

    seconds: float
    commit_s: float
    feed_s: float
    phases: dict[str, float]


def worker_seconds(events: list[Event], stations: Any) -> WorkerRun:
    """CPU seconds from the first batch until the worker is caught up, and their split."""
    settings = KafkaSettings(bootstrap_servers="in-process:0", group_id="bench", quiet_after_s=0.5)
    with tempfile.TemporaryDirectory() as scratch:
        store = CommitTimedStore(SqlStore.open(f"sqlite:///{Path(scratch) / 'twin.db'}"))
        worker, feed = inprocess_worker(settings, store, stations, SEED)  # type: ignore[arg-type]
        worker.start()
        began, committed = time.process_time(), store.commit_cpu_s
        feed.cpu_s = 0.0
        catch_up(worker, feed, events)
        elapsed = time.process_time() - began
        commit_s, feed_s = store.commit_cpu_s - committed, feed.cpu_s
        worker.close()
    return WorkerRun(elapsed, commit_s, feed_s, dict(worker.stats.seconds))


def main() -> None:
    parser = workload.parser(__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args, stations = workload.begin(parser, tune_gc=True)
    events = list(workload.backlog(stations, args.events, SEED))
    engine: list[float] = []
    runs: list[WorkerRun] = []
    for _ in range(args.repeat):
        engine.append(engine_seconds(events, stations))
        runs.append(worker_seconds(events, stations))
    engine_s = statistics.median(engine)
    worker_s = statistics.median(run.seconds for run in runs)
    count = len(events)
    print(f"{count:,} events, {args.repeat} runs each, CPU time medians")
    print(f"{'engine alone':<32}{engine_s:>8.2f} s{count / engine_s:>12,.0f} ev/s")
    print(f"{'worker catch-up (SQLite)':<32}{worker_s:>8.2f} s{count / worker_s:>12,.0f} ev/s")
    print(f"{'worker / engine (rates)':<32}{engine_s / worker_s:>10.3f}")
    median_run = sorted(runs, key=lambda run: run.seconds)[len(runs) // 2]
    seconds, commit_s, feed_s, shares = median_run
    parts = {
        "engine alone": engine_s,
        "worker: main thread less the feed": seconds - commit_s - feed_s,
        "worker: store commit thread": commit_s,
        "worker: the feed's encoding": feed_s,
    }
    print("  CPU µs an event (the worker's median run):")
    for name, part in parts.items():
        print(f"    {name:<36}{part / count * 1e6:>7.2f}")
    print(f"{'worker less the feed / engine':<32}{engine_s / (seconds - feed_s):>10.3f}")
    total = sum(shares.values())
    print("  phases: " + ", ".join(f"{p} {shares[p] / total:.0%}" for p in PHASES))


if __name__ == "__main__":
    main()

"""Benchmark: the worker's catch-up against the engine alone, without a broker, in CPU time.

`bench_worker.py` measures the real thing (broker, librdkafka, wall time); on a shared 2-core
machine its figures move by a third from run to run. This one keeps what the worker itself
does (decode, checks, reorder buffer, reefer alerts, engine, KPI and twin snapshots, the SQLite
commit thread) and drops the broker: the worker reads generated events from in-process clients
(`inprocess_worker.py`, which encodes each as `corridor publish` would: that encoding is
timed under `consume`). Times are the process's CPU time (both threads), and the engine alone
and the worker alternate `--repeat` times on the same events: it prints the medians and
the ratio of the medians, and the worker's phases (wall time shares) in its median run.

    .venv/bin/python benchmarks/bench_worker_inprocess.py [--events 100000] [--repeat 3]
"""

import argparse
import itertools
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from inprocess_worker import inprocess_worker  # type: ignore[import-not-found]

from api.store.sql_store import SqlStore
from corridor.contract.events import Event
from corridor.engine.twin import replay
from corridor.runtime import tune_gc_for_a_long_lived_twin
from corridor.scenario import DEFAULT_START, load_scenario
from corridor.traffic.generator import generate
from streams.phase_timer import PHASES
from streams.settings import KafkaSettings

SEED = 2026
EVENTS_PER_DAY = 4000


def engine_seconds(events: list[Event], stations: Any) -> float:
    began = time.process_time()
    replay(events, stations, SEED)
    return time.process_time() - began


def worker_seconds(events: list[Event], stations: Any) -> tuple[float, dict[str, float]]:
    """CPU seconds from the first batch until the worker is caught up; its phases' seconds."""
    settings = KafkaSettings(bootstrap_servers="in-process:0", group_id="bench", quiet_after_s=0.5)
    with tempfile.TemporaryDirectory() as scratch:
        store = SqlStore.open(f"sqlite:///{Path(scratch) / 'twin.db'}")
        worker, feed = inprocess_worker(settings, store, stations, SEED)
        worker.start()
        feed.feed(iter(events))
        began = time.process_time()
        while not (worker.stats.consumed >= len(events) and worker.idle_for() > 0):
            worker.step()
        elapsed = time.process_time() - began
        worker.close()
    return elapsed, dict(worker.stats.seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    tune_gc_for_a_long_lived_twin()
    stations = load_scenario(None).stations
    days = max(1, -(-args.events // EVENTS_PER_DAY))
    traffic = generate(stations, days=days, seed=SEED, start=DEFAULT_START)
    events = list(itertools.islice(traffic, args.events))
    engine, worker, phases = [], [], []
    for _ in range(args.repeat):
        engine.append(engine_seconds(events, stations))
        seconds, shares = worker_seconds(events, stations)
        worker.append(seconds)
        phases.append((seconds, shares))
    engine_s, worker_s = statistics.median(engine), statistics.median(worker)
    count = len(events)
    print(f"{count:,} events, {args.repeat} runs each, CPU time medians")
    print(f"{'engine alone':<32}{engine_s:>8.2f} s{count / engine_s:>12,.0f} ev/s")
    print(f"{'worker catch-up (SQLite)':<32}{worker_s:>8.2f} s{count / worker_s:>12,.0f} ev/s")
    print(f"{'worker / engine (rates)':<32}{engine_s / worker_s:>10.3f}")
    _, shares = sorted(phases, key=lambda run: run[0])[len(phases) // 2]
    total = sum(shares.values())
    print("  phases: " + ", ".join(f"{p} {shares[p] / total:.0%}" for p in PHASES))


if __name__ == "__main__":
    main()

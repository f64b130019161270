"""Benchmark: `bench_worker.py`'s engine, SQLite catch-up and latency sections on a smaller
backlog, for comparing two commits side by side (run it with each commit's code on
`PYTHONPATH`, alternating; the in-memory store, restart and group sections are left out).

Prints the engine alone, the worker's catch-up and their ratio, the catch-up's phases, and the
produce -> KPI latency at a steady 1,000 events/s.
    .venv/bin/python benchmarks/bench_worker_ab.py [--events 400000] [--latency-seconds 20]
"""

import tempfile
from pathlib import Path

import bench_worker as bench  # type: ignore[import-not-found]
import live_latency  # type: ignore[import-not-found]
import workload  # type: ignore[import-not-found]

from api.store.sql_store import SqlStore
from streams.broker import EmbeddedBroker
from streams.phase_timer import PHASES
from streams.publish import publish
from streams.settings import KafkaSettings


def main() -> None:
    parser = workload.parser(__doc__)
    parser.add_argument("--events", type=int, default=400_000)
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=1000.0, help="events/s for the latency run")
    parser.add_argument(
        "--end-settle-s",
        type=float,
        default=KafkaSettings().end_settle_s,
        help="the latency worker's CORRIDOR_KAFKA_END_SETTLE_S (default: the worker's)",
    )
    args, stations = workload.begin(parser, tune_gc=True)
    with EmbeddedBroker() as broker, tempfile.TemporaryDirectory() as scratch:
        settings = KafkaSettings(
            bootstrap_servers=broker.bootstrap_servers, group_id="bench", quiet_after_s=0.5
        )
        backlog = workload.backlog(stations, args.events, bench.SEED)
        published = publish(backlog, settings).produced
        engine = bench.engine_rate(stations, published)
        store = SqlStore.open(f"sqlite:///{Path(scratch) / 'twin.db'}")
        worker, stats = bench.catch_up(settings, stations, published, store)
        print(f"engine alone {engine:,.0f} ev/s, worker catch-up {worker:,.0f} ev/s, "
              f"worker / engine {worker / engine:.3f}")  # fmt: skip
        total = sum(stats.seconds.values())
        shares = ", ".join(f"{p} {stats.seconds[p] / total:.0%}" for p in PHASES)
        print(f"  catch-up phases: {shares}; deliver {stats.seconds['deliver']:.1f} s")
        live_latency.latency(broker, args, Path(scratch) / "live.db", KafkaSettings().store_writer)


if __name__ == "__main__":
    main()

"""Benchmark: one live KPI snapshot's cost on an aged twin: `kpi_outputs`, the yard views and
the SQLite store commit of the batch that carries them; and the CPU time of `kpi_outputs` and
of the commit, steadier than wall time on a shared machine.

A live twin is fed `--days` of generated traffic (a full 7-day window and more), then
advanced in steps of 100 events; at each step the snapshot's KPIs and partials are computed,
the yard views put on the batch, and the batch committed to a fresh SQLite store. Prints the
median milliseconds of each part. Run it with another commit's code on `PYTHONPATH` to
compare (the script only imports the project's modules):
    .venv/bin/python benchmarks/bench_live_snapshot.py [--days 10] [--steps 19]
"""

import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import workload  # type: ignore[import-not-found]

from api.store.sql_store import SqlStore
from corridor.store_contract import TwinBatch
from streams.live.reorder import to_micros
from streams.live.snapshots import kpi_outputs, put_yard_views

SEED = 11
LATENESS = 5 * 60 * 1_000_000  # microseconds
STEP = 100  # events between snapshots


def main() -> None:
    parser = workload.parser(__doc__, days=10)
    parser.add_argument("--steps", type=int, default=19)
    args, stations = workload.begin(parser, tune_gc=True)
    events = workload.generated(stations, args.days, SEED)
    tail = events[-STEP * args.steps :]
    live = workload.warmed_live_twin(stations, events, len(tail), SEED, LATENESS)
    parts: list[tuple[float, float, float]] = []
    cpu: list[float] = []
    commit_cpu: list[float] = []
    with tempfile.TemporaryDirectory() as scratch:
        store = SqlStore.open(f"sqlite:///{Path(scratch) / 'twin.db'}")
        for step in range(args.steps):
            chunk = tail[step * STEP : (step + 1) * STEP]
            for event in chunk:
                live.admit(event, b"")
            watermark = to_micros(chunk[-1].ts) - LATENESS
            live.advance(watermark)
            batch = TwinBatch("bench", offsets={})
            began, began_cpu = time.perf_counter(), time.process_time()
            snapshots, partials = kpi_outputs(live, watermark, datetime.now(UTC))
            computed = time.perf_counter()
            cpu.append(time.process_time() - began_cpu)
            batch.snapshots.extend(snapshots)
            put_yard_views(live, batch, partials)
            viewed = time.perf_counter()
            batch.records = live.twin.drain()
            committing = time.process_time()
            store.commit(batch)
            commit_cpu.append(time.process_time() - committing)
            parts.append((computed - began, viewed - computed, time.perf_counter() - viewed))
        store.close()
    kpis, views, commit = (statistics.median(column) * 1000 for column in zip(*parts, strict=True))
    print(f"{len(events):,} events ({args.days} days), median of {args.steps} snapshots:")
    print(f"  kpi_outputs {kpis:.0f} ms, yard views {views:.0f} ms, store commit {commit:.0f} ms, "
          f"total {kpis + views + commit:.0f} ms")  # fmt: skip
    print(
        f"  kpi_outputs CPU {statistics.median(cpu) * 1000:.0f} ms, "
        f"store commit CPU {statistics.median(commit_cpu) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()

"""Restart of the live twin from a stored twin snapshot, against a rebuild from the whole archive.

Generates `--days` of traffic for the three yards and feeds it to a live twin as the worker
would (admits, a watermark 5 minutes behind the newest event, a commit of archive entries and
clock advances every `--batch` events to the SQL store on a SQLite file), storing a twin
snapshot every `--every-h` hours of event time (`streams.twin_restart.TwinSnapshots`, the
worker's own policy) and one at the end, as a clean stop does. Then times, `--repeat` times
each, the two ways to load the twin again: `twin_restart.load` (newest snapshot plus the archive
after it) and a full rebuild (the same call on a store that shows no snapshots). Prints the
archive, the newest snapshot's size, and the medians side by side with their ratio; with
`--tail-h`, the newest `tail-h` hours of snapshots are dropped first, so the restart replays
that much archive (a crash just before the next snapshot is due).

    .venv/bin/python benchmarks/bench_restart.py --days 30 90
"""

import argparse
import statistics
import tempfile
import time
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete

from api.store.sql_store import SqlStore
from api.store.twin_snapshots import TwinSnapshotRow
from corridor.contract.events import encode_event
from corridor.runtime import tune_gc_for_a_long_lived_twin
from corridor.scenario import DEFAULT_START
from corridor.store_contract import ArchivedEvent, ClockAdvance, TwinBatch
from corridor.traffic.generator import generate
from stations.spec import StationSpec, load_all_stations
from streams import twin_restart
from streams.live import state
from streams.live.reorder import from_micros, to_micros
from streams.live.twin import LiveTwin
from streams.settings import KafkaSettings

LATENESS_US = 5 * 60 * 1_000_000


def fill(
    store: SqlStore,
    stations: Mapping[str, StationSpec],
    days: int,
    seed: int,
    args: argparse.Namespace,
) -> int:
    """Feed `days` of generated traffic through a live twin into `store`; events archived."""
    settings = KafkaSettings(
        twin_snapshot_every=timedelta(hours=args.every_h), twin_snapshots_kept=args.kept
    )
    live, keeper = LiveTwin(stations, seed), twin_restart.TwinSnapshots(settings)
    batch, count = TwinBatch("bench", offsets={}), 0
    for event in generate(stations, days=days, seed=seed, start=DEFAULT_START):
        raw = encode_event(event)
        live.admit(event, raw)
        batch.archived.append(ArchivedEvent(event.event_id, event.yard, event.ts, raw))
        count += 1
        if count % args.batch == 0:
            commit(live, keeper, batch, to_micros(event.ts) - LATENESS_US, store)
            batch = TwinBatch("bench", offsets={})
    if live.newest is not None:
        commit(live, keeper, batch, live.newest, store, final=True)
    return count


def commit(
    live: LiveTwin,
    keeper: twin_restart.TwinSnapshots,
    batch: TwinBatch,
    moment: int,
    store: SqlStore,
    *,
    final: bool = False,
) -> None:
    if live.watermark is None or moment > live.watermark:
        live.advance(moment)
        batch.archived.append(ClockAdvance(from_micros(moment)))
    if live.twin is not None:
        live.twin.drain()
    keeper.attach(live, batch, final=final)
    store.commit(batch)


def timed(repeat: int, work: object) -> tuple[float, twin_restart.Loaded]:
    runs, result = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        result = work()  # type: ignore[operator]
        runs.append(time.perf_counter() - began)
    assert isinstance(result, twin_restart.Loaded)
    return statistics.median(runs), result


def measure(days: int, args: argparse.Namespace) -> dict[str, float]:
    stations = load_all_stations()
    with tempfile.TemporaryDirectory() as folder:
        store = SqlStore.open(f"sqlite:///{Path(folder) / 'twin.db'}")
        began = time.perf_counter()
        events = fill(store, stations, days, args.seed, args)
        fill_s = time.perf_counter() - began
        stored = store.twin_snapshots()
        if args.tail_h:
            cut = stored[0].watermark - timedelta(hours=args.tail_h)
            with store.engine.begin() as connection:
                table = TwinSnapshotRow.__table__  # type: ignore[attr-defined]
                connection.execute(delete(table).where(table.c.watermark > cut))
            stored = store.twin_snapshots()
        size = len(store.twin_snapshot_data(stored[0].id) or b"")
        entries = sum(1 for _ in store.load_archive())
        restart_s, restarted = timed(
            args.repeat, lambda: twin_restart.load(store, stations, args.seed)
        )
        rebuild_s, rebuilt = timed(
            args.repeat, lambda: twin_restart.load(store, stations, args.seed, snapshots=False)
        )
        assert restarted.snapshot_id is not None
        assert rebuilt.snapshot_id is None
        same = state.encode(restarted.live.snapshot()) == state.encode(rebuilt.live.snapshot())
        store.close()
    return {
        "days": days,
        "events": events,
        "entries": entries,
        "fill_s": fill_s,
        "snapshot_mb": size / 1e6,
        "tail": restarted.entries,
        "restart_s": restart_s,
        "rebuild_s": rebuild_s,
        "same": float(same),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, nargs="+", default=[30])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch", type=int, default=2000, help="events per commit")
    parser.add_argument("--every-h", type=float, default=6.0, help="twin snapshot cadence")
    parser.add_argument("--kept", type=int, default=8)
    parser.add_argument("--tail-h", type=float, default=0.0, help="drop the newest snapshots")
    args = parser.parse_args()
    tune_gc_for_a_long_lived_twin()
    print(
        f"{'days':>5} {'events':>9} {'archive':>9} {'snapshot MB':>11} {'tail':>7} "
        f"{'restart s':>9} {'rebuild s':>9} {'ratio':>7} {'same':>5}"
    )
    for days in args.days:
        row = measure(days, args)
        print(
            f"{row['days']:>5} {row['events']:>9,.0f} {row['entries']:>9,.0f} "
            f"{row['snapshot_mb']:>11.2f} {row['tail']:>7,.0f} {row['restart_s']:>9.2f} "
            f"{row['rebuild_s']:>9.2f} {row['rebuild_s'] / row['restart_s']:>6.1f}x "
            f"{'yes' if row['same'] else 'NO':>5}",
            flush=True,
        )


if __name__ == "__main__":
    main()

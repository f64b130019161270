"""Benchmark: the twin snapshots' share of a catch-up (`CATCHUP_SHARE`), both sides of the trade.

While catching up, the worker stores its live twin's snapshot only after `cost / CATCHUP_SHARE`
of wall time since the last one (`streams.twin_restart`). A smaller share spends less of the
catch-up on snapshots and leaves a longer archive tail for a restart after a crash to replay.
This runs the worker in this process (`inprocess_worker.py`, SQLite store) on the same events
once per share, the shares alternated `--rounds` times, and prints per share the medians of

- the catch-up: events a second (wall) and CPU µs an event, the twin snapshots stored, the wall
  time of the `deliver` phase (which takes and encodes them) and what storing them added to
  the commits that carried them (the commit thread's wall time, beyond a commit without one);
- the tail: for a crash at a moment of the catch-up taken at random (uniform in wall time), the
  archive entries committed after the newest stored snapshot, on average and at worst, and
  the seconds a restart takes to replay them at the rebuild rate measured in the same round
  (`twin_restart.load` without snapshots, on the store the catch-up left).

    .venv/bin/python benchmarks/bench_catchup_share.py [--events 150000] [--rounds 3] \
        [--share 0.1 --share 0.05]
"""

import os
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import workload  # type: ignore[import-not-found]
from inprocess_worker import inprocess_worker  # type: ignore[import-not-found]

from api.store.sql_store import SqlStore
from corridor.contract.events import Event
from corridor.store_contract import TwinBatch
from streams import twin_restart
from streams.settings import KafkaSettings

SEED = 2026


@dataclass
class CommitLog:
    """A store whose commits are noted as they end: when, the archive committed so far, and
    whether the batch stored a twin snapshot (with the commit's wall time)."""

    store: SqlStore
    ends: list[float] = field(default_factory=list)
    archived_so_far: list[int] = field(default_factory=list)
    snapshot: list[bool] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)

    def commit(self, batch: TwinBatch) -> None:
        began = time.perf_counter()
        self.store.commit(batch)
        ended = time.perf_counter()
        self.durations.append(ended - began)
        total = (self.archived_so_far[-1] if self.archived_so_far else 0) + len(batch.archived)
        self.ends.append(ended)
        self.archived_so_far.append(total)
        self.snapshot.append(batch.twin_snapshot is not None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def snapshots_extra_s(self) -> float:
        """The commits that stored a twin snapshot less as many commits without one (the
        median): what storing the snapshots cost the commit thread."""
        plain = [
            d for d, snapshot in zip(self.durations, self.snapshot, strict=True) if not snapshot
        ]
        carrying = [
            d for d, snapshot in zip(self.durations, self.snapshot, strict=True) if snapshot
        ]
        return sum(carrying) - len(carrying) * (statistics.median(plain) if plain else 0.0)

    def tail(self, began: float, ended: float) -> tuple[float, int]:
        """The archive entries after the newest snapshot for a crash in [began, ended]: the
        mean over wall time, and the largest."""
        area, worst, tail, last, at = 0.0, 0, 0, 0, began
        for end, archived, snapshot in zip(
            self.ends, self.archived_so_far, self.snapshot, strict=True
        ):
            end = min(max(end, began), ended)
            area += tail * (end - at)
            at = end
            tail = 0 if snapshot else tail + archived - last
            last, worst = archived, max(worst, tail)
        area += tail * (ended - at)
        return area / (ended - began), worst


@dataclass(frozen=True)
class Round:
    rate: float  # events a second, wall
    cpu_us: float  # CPU µs an event, the process
    snapshots: int
    deliver_s: float
    snapshot_commit_s: float
    tail_mean: float
    tail_worst: int
    rebuild_rate: float  # archive entries a second


def catch_up(events: list[Event], stations: Any, share: float) -> Round:
    twin_restart.CATCHUP_SHARE = share
    settings = KafkaSettings(bootstrap_servers="in-process:0", group_id="bench", quiet_after_s=0.5)
    with tempfile.TemporaryDirectory(prefix="bench-share-") as scratch:
        store = CommitLog(SqlStore.open(f"sqlite:///{Path(scratch) / 'twin.db'}"))
        worker, feed = inprocess_worker(settings, store, stations, SEED)  # type: ignore[arg-type]
        worker.start()
        feed.feed(iter(events))
        began, cpu = time.perf_counter(), time.process_time()
        while not (worker.stats.consumed >= len(events) and worker.idle_for() > 0):
            worker.step()
        worker.commits.wait()
        ended, cpu = time.perf_counter(), time.process_time() - cpu
        deliver_s = worker.stats.seconds["deliver"]
        snapshots, snapshot_commit_s = worker.twin_snapshots.taken, store.snapshots_extra_s()
        mean, worst = store.tail(began, ended)
        worker.close()  # (its final snapshot is no part of the catch-up)
        loaded = twin_restart.load(store.store, stations, SEED, snapshots=False)
    return Round(
        len(events) / (ended - began),
        cpu / len(events) * 1e6,
        snapshots,
        deliver_s,
        snapshot_commit_s,
        mean,
        worst,
        loaded.entries / loaded.seconds,
    )


def main() -> None:
    parser = workload.parser(__doc__)
    parser.add_argument("--events", type=int, default=150_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--share", type=float, action="append", help="default: 0.1 and 0.05")
    args, stations = workload.begin(parser, tune_gc=True)
    shares = args.share or [0.1, 0.05]
    events = list(workload.backlog(stations, args.events, SEED))
    print(f"{len(events):,} events, {args.rounds} rounds, shares alternated: {shares}")
    runs: dict[float, list[Round]] = {share: [] for share in shares}
    for number in range(args.rounds):
        for share in shares:
            done = catch_up(events, stations, share)
            runs[share].append(done)
            print(
                f"  round {number} share {share}: {done.rate:,.0f} ev/s, {done.cpu_us:.1f} CPU µs"
                f" an event, {done.snapshots} snapshots; tail mean {done.tail_mean:,.0f}, worst"
                f" {done.tail_worst:,} entries; rebuild {done.rebuild_rate:,.0f} entries/s;"
                f" load {os.getloadavg()[0]:.1f}"
            )
    print("medians:")
    print(
        f"{'share':>6}{'ev/s':>9}{'CPU µs':>8}{'snaps':>6}{'deliver s':>10}{'store snaps s':>14}"
        f"{'tail mean':>10}{'tail worst':>11}{'replay mean s':>14}{'replay worst s':>15}"
    )
    for share, rounds in runs.items():
        rebuild = statistics.median(r.rebuild_rate for r in rounds)
        mean = statistics.median(r.tail_mean for r in rounds)
        worst = statistics.median(r.tail_worst for r in rounds)
        print(
            f"{share:>6}{statistics.median(r.rate for r in rounds):>9,.0f}"
            f"{statistics.median(r.cpu_us for r in rounds):>8.1f}"
            f"{statistics.median(r.snapshots for r in rounds):>6.0f}"
            f"{statistics.median(r.deliver_s for r in rounds):>10.2f}"
            f"{statistics.median(r.snapshot_commit_s for r in rounds):>14.2f}"
            f"{mean:>10,.0f}{worst:>11,.0f}{mean / rebuild:>14.2f}{worst / rebuild:>15.2f}"
        )
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

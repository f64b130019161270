"""Benchmark: `SqlStore.commit` alone, single-threaded, on the batches of a real catch-up.

The batches are those an in-process worker commits catching up on `--events` generated events
(`catchup_batches.py`). Each round commits them all, in order, to a fresh SQLite store in
one thread and prints, in µs per event (medians of `--repeat` rounds): the thread's CPU and
wall time in all, then per SQL statement (by its first words: one line per table and kind) its
CPU and wall time inside the driver and the rows it wrote, and what is left: the Python work
around the statements (packing the archive, checking and converting the rows), the COMMIT and
the corridor's merge. It also prints the store's SQLite pragmas and a digest of the stored
rows (less the wall-clock columns), equal for two trees that store the same rows.

With `--trees BASE BRANCH` it compares two trees on the same batches instead: the thread's
CPU and wall time per tree, the trees alternated `--repeat` times in child processes (medians
and their ratio), and the instructions a child executes committing them all under callgrind
(less those of a child that only loads the batches), with each tree's digest.

    .venv/bin/python benchmarks/bench_store_commit.py [--events 100000] [--repeat 3]
    .venv/bin/python benchmarks/bench_store_commit.py --trees /work/wt-base . [--repeat 5]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import workload  # type: ignore[import-not-found]
from callgrind import instructions  # type: ignore[import-not-found]
from catchup_batches import (  # type: ignore[import-not-found]
    WALL_CLOCK_COLUMNS,
    captured,
    loaded,
    saved,
    table_digest,
)
from sqlalchemy import event

from api.store.sql_store import SqlStore
from corridor.runtime import tune_gc_for_a_long_lived_twin
from corridor.store_contract import TwinBatch
from streams.store_writer import ProcessCommits, commits_for

SEED = 2026
PRAGMAS = ("journal_mode", "synchronous", "cache_size", "page_size", "wal_autocheckpoint")


class StatementClock:
    """CPU and wall seconds, and rows, per statement (its first four words) on an engine."""

    def __init__(self, store: SqlStore) -> None:
        self.cpu: defaultdict[str, float] = defaultdict(float)
        self.wall: defaultdict[str, float] = defaultdict(float)
        self.rows: Counter[str] = Counter()
        self._began = (0.0, 0.0)
        event.listen(store.engine, "before_cursor_execute", self._before)
        event.listen(store.engine, "after_cursor_execute", self._after)

    def _before(self, *_: Any) -> None:
        self._began = (time.thread_time(), time.perf_counter())

    def _after(self, _c: Any, _cursor: Any, sql: str, parameters: Any, _x: Any, many: bool) -> None:
        name = " ".join(sql.split()[:4])
        cpu, wall = self._began
        self.cpu[name] += time.thread_time() - cpu
        self.wall[name] += time.perf_counter() - wall
        self.rows[name] += len(parameters) if many else sql.count("), (") + 1  # multi-row


class Round(dict[str, float]):
    """One round's figures by name, in seconds (and rows)."""


def commit_round(batches: list[TwinBatch]) -> tuple[Round, str]:
    """Commit `batches` to a fresh store: the figures, and the stored rows' digest."""
    with tempfile.TemporaryDirectory() as scratch:
        database = Path(scratch) / "twin.db"
        store = SqlStore.open(f"sqlite:///{database}")
        clock = StatementClock(store)
        cpu, wall = time.thread_time(), time.perf_counter()
        for batch in batches:
            store.commit(batch)
        figures = Round(cpu=time.thread_time() - cpu, wall=time.perf_counter() - wall)
        for name in clock.cpu:
            figures[f"cpu {name}"] = clock.cpu[name]
            figures[f"wall {name}"] = clock.wall[name]
            figures[f"rows {name}"] = clock.rows[name]
        with store.engine.connect() as connection:
            for pragma in PRAGMAS:
                value = connection.exec_driver_sql(f"PRAGMA {pragma}").scalar()
                figures[f"pragma {pragma}"] = value  # type: ignore[assignment]
        store.close()
        return figures, table_digest(database)


def report(rounds: list[Round], events: int, digest: str) -> None:
    """The medians of the rounds, in µs an event."""

    def per_event(name: str) -> float:
        return statistics.median(r.get(name, 0.0) for r in rounds) / events * 1e6

    first = rounds[0]
    print(f"{events:,} events, {len(rounds)} rounds, medians in µs an event (CPU, wall)")
    print(f"  {'commit, in all':<58}{per_event('cpu'):>8.2f}{per_event('wall'):>8.2f}")
    statements = sorted(
        (name.removeprefix("cpu ") for name in first if name.startswith("cpu ")),
        key=lambda name: -per_event(f"cpu {name}"),
    )
    within = 0.0
    for name in statements:
        cpu = per_event(f"cpu {name}")
        within += cpu
        rows = first[f"rows {name}"] / events
        print(f"    {name[:50]:<56}{cpu:>8.2f}{per_event(f'wall {name}'):>8.2f}  {rows:.3f} rows")
    print(f"  {'in the statements':<58}{within:>8.2f}")
    rest = per_event("cpu") - within
    print(f"  {'the rest: Python around them, COMMIT, the merge':<58}{rest:>8.2f}")
    pragmas = ", ".join(f"{p} {first[f'pragma {p}']}" for p in PRAGMAS)
    print(f"  SQLite {pragmas}")
    print(f"  stored rows sha256 (less {', '.join(sorted(WALL_CLOCK_COLUMNS))}): {digest}")


def writer_round(batches: list[TwinBatch]) -> tuple[Round, str]:
    """Commit `batches` through the worker's writer process (`streams.store_writer`), each
    before the next is sent: the wall time the worker waits, and the stored rows' digest."""
    with tempfile.TemporaryDirectory() as scratch:
        database = Path(scratch) / "twin.db"
        store = SqlStore.open(f"sqlite:///{database}")
        commits = commits_for(store, "process")
        assert isinstance(commits, ProcessCommits)
        commits.opened()
        cpu, wall = time.thread_time(), time.perf_counter()
        for batch in batches:
            commits.commit(batch, background=False)
        figures = Round(cpu=time.thread_time() - cpu, wall=time.perf_counter() - wall)
        commits.close()
        store.close()
        return figures, table_digest(database)


def child(mode: str, pickled: Path) -> None:
    """A child's run: load the batches, then (`commit`) commit them once in this thread or
    (`writer`) through a writer process, printing its figures."""
    tune_gc_for_a_long_lived_twin()
    batches = loaded(pickled)
    if mode in ("commit", "writer"):
        figures, digest = (commit_round if mode == "commit" else writer_round)(batches)
        print(json.dumps({"cpu": figures["cpu"], "wall": figures["wall"], "digest": digest}))


def compare(trees: list[Path], pickled: Path, repeat: int, events: int) -> None:
    """CPU and wall per tree, alternated, and instructions under callgrind."""
    script = str(Path(__file__).resolve())

    def run(tree: Path, mode: str) -> dict[str, Any]:
        env = {**os.environ, "PYTHONPATH": str(tree.resolve()), "PYTHONHASHSEED": "0"}
        done = subprocess.run(
            [sys.executable, script, "--child", mode, str(pickled)],
            env=env, capture_output=True, text=True,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"{tree} {mode} failed:\n{done.stderr[-3000:]}")
        answer: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
        return answer

    for mode, what in (("commit", "in this thread"), ("writer", "through the writer process")):
        runs: dict[Path, list[dict[str, Any]]] = {tree: [] for tree in trees}
        for _ in range(repeat):
            for tree in trees:
                runs[tree].append(run(tree, mode))
        load = os.getloadavg()
        print(f"{events:,} events committed {what}, {repeat} alternated runs per tree, medians")
        print(f"  load average {load[0]:.2f} {load[1]:.2f}; µs an event (the caller's CPU, wall)")
        medians = {}
        for tree in trees:
            cpu = statistics.median(r["cpu"] for r in runs[tree]) / events * 1e6
            wall = statistics.median(r["wall"] for r in runs[tree]) / events * 1e6
            medians[tree] = cpu, wall
            digests = ", ".join({r["digest"][:16] for r in runs[tree]})
            print(f"  {tree!s:<36} CPU {cpu:7.2f}  wall {wall:7.2f}  digest {digests}")
        (base_cpu, base_wall), (cpu, wall) = medians[trees[0]], medians[trees[-1]]
        print(f"  last / first: CPU {cpu / base_cpu:.3f}, wall {wall / base_wall:.3f}")
    print("  instructions under callgrind (commit less load), per event:")
    counts = []
    for tree in trees:
        loading = instructions(script, tree.resolve(), ["--child", "load", str(pickled)])
        committing = instructions(script, tree.resolve(), ["--child", "commit", str(pickled)])
        counts.append(committing - loading)
        print(f"  {tree!s:<40}{(committing - loading) / events:>12,.0f}")
    print(f"  last / first: {counts[-1] / counts[0]:.3f}")


def main() -> None:
    parser = workload.parser(__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--trees", nargs="+", type=Path, help="compare these trees (A/B)")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "BATCHES"), help=argparse.SUPPRESS)
    args, stations = workload.begin(parser, tune_gc=True)
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    batches = captured(stations, args.events, SEED)
    events = sum(len(batch.archived) for batch in batches)
    if args.trees:
        with tempfile.TemporaryDirectory() as scratch:
            pickled = saved(batches, Path(scratch) / "batches.pickle")
            compare(args.trees, pickled, args.repeat, events)
        return
    results = [commit_round(batches) for _ in range(args.repeat)]
    print(f"{len(batches)} batches committed by the in-process catch-up")
    report([figures for figures, _ in results], events, results[-1][1])


if __name__ == "__main__":
    main()

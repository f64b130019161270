"""Benchmark: the worker's catch-up against the engine alone in instructions (callgrind).

CPU time on these shared 2-core machines moves by a fifth from one run to the next, more than
most single changes to the worker; the instructions a run executes do not. This runs, under
`valgrind --tool=callgrind`, three children on the same generated events: one that only
generates them (the setup, subtracted from the others), the engine alone
(`corridor.engine.twin.replay`) and the worker catching up on in-process clients
(`inprocess_worker.py`, SQLite store, both threads counted), for each `--tree` given (a checkout
or a `git archive` of one, put first on `PYTHONPATH`; this script and its in-process clients
stay the same for all). It prints instructions an event and the worker / engine ratio per tree,
and each tree's worker against the first tree's.

So that the count does not depend on wall time (valgrind runs fifty times slower), catch-up
KPI snapshots are not paced by wall time here (the first and the final one only:
`catchup_kpi_every_s` is a day) and stored twin snapshots are off; what they cost is in
`bench_worker_inprocess.py`. String hashing is seeded alike in every child (`PYTHONHASHSEED`),
so that sets and dicts of strings do the same work in each. The trees run two at a time.

    .venv/bin/python benchmarks/bench_worker_instructions.py [--events 20000] \
        [--tree /tmp/base] [--tree .]
"""

import argparse
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import callgrind  # type: ignore[import-not-found]  # beside this script

SEED = 2026
MODES = ("setup", "engine", "worker")


def child(mode: str, count: int) -> None:
    """Generate `count` events, then run `mode` on them (in the tree on `PYTHONPATH`)."""
    import workload  # type: ignore[import-not-found]
    from inprocess_worker import inprocess_worker  # type: ignore[import-not-found]

    from api.store.sql_store import SqlStore
    from corridor.engine.twin import replay
    from corridor.runtime import tune_gc_for_a_long_lived_twin
    from corridor.scenario import load_scenario
    from streams.settings import KafkaSettings

    tune_gc_for_a_long_lived_twin()
    stations = load_scenario(None).stations
    events = list(workload.backlog(stations, count, SEED))
    if mode == "engine":
        replay(events, stations, SEED)
    elif mode == "worker":
        settings = KafkaSettings(
            bootstrap_servers="in-process:0",
            group_id="bench",
            quiet_after_s=0.5,
            catchup_kpi_every_s=86_400.0,
            twin_snapshot_every=timedelta(0),
        )
        with tempfile.TemporaryDirectory() as scratch:
            store = SqlStore.open(f"sqlite:///{Path(scratch) / 'twin.db'}")
            worker, feed = inprocess_worker(settings, store, stations, SEED)
            worker.start()
            feed.feed(iter(events))
            while not (worker.stats.consumed >= len(events) and worker.idle_for() > 0):
                worker.step()
            worker.close()


def instructions(tree: Path, mode: str, count: int) -> int:
    """Instructions a child in `mode` executes under callgrind, with `tree` first on the path."""
    return callgrind.instructions(__file__, tree, ["--child", mode, "--events", str(count)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--tree", type=Path, action="append", help="default: this checkout")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.events)
        return
    trees = [tree.resolve() for tree in args.tree or [Path(__file__).resolve().parents[1]]]
    runs = [(tree, mode) for tree in trees for mode in MODES]
    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = list(pool.map(lambda run: instructions(*run, args.events), runs))
    counted = dict(zip(runs, counts, strict=True))
    print(f"{args.events:,} events, instructions an event (callgrind, setup subtracted)")
    print(f"{'tree':<40}{'engine':>10}{'worker':>10}{'w / e':>8}{'worker vs first':>17}")
    first_worker = None
    for tree in trees:
        setup = counted[(tree, "setup")]
        engine = (counted[(tree, "engine")] - setup) / args.events
        worker = (counted[(tree, "worker")] - setup) / args.events
        first_worker = first_worker or worker
        print(
            f"{str(tree)[-40:]:<40}{engine:>10,.0f}{worker:>10,.0f}{engine / worker:>8.3f}"
            f"{worker / first_worker:>17.3f}"
        )


if __name__ == "__main__":
    main()

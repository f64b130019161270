"""Benchmark: one live KPI moment's cost (`kpi_outputs`), two trees alternated on one twin state.

What a KPI moment of the worker costs: the live twin is fed `--days` of generated traffic,
then advanced in steps of `--step` events (about the events between two 15-minute moments at
the worker's pace), and `kpi_outputs` is timed at every step, in CPU time (steadier than the
wall clock on a shared machine). Each tree (`--tree NAME=PATH`, its code on `PYTHONPATH`) runs
in a child process of its own on the same events, the trees alternated `--rounds` times; the
parent prints each run's median, the median of the medians per tree and their ratio to the
first tree, with the load average before and after:
    .venv/bin/python benchmarks/bench_kpi_moment.py --tree main=/work/main --tree branch=. \\
        [--days 4 10] [--rounds 3] [--steps 30]

With `--instructions`, each tree's children run once under valgrind's callgrind instead
(`callgrind.py`: counts the machine's load does not move), one with the moments and one doing
all the same but `kpi_outputs`; the difference over `--steps` is the instructions of one KPI
moment, printed per tree with its ratio to the first tree's.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import callgrind  # type: ignore[import-not-found]  # beside this script
import workload  # type: ignore[import-not-found]

SEED = 11
LATENESS = 5 * 60 * 1_000_000  # microseconds


def child(days: int, steps: int, step: int, moments: bool = True) -> None:
    """Time `kpi_outputs` at `steps` moments of a `days`-old twin; print the CPU ms as JSON
    (`moments` False: all the same but `kpi_outputs`, what `--instructions` subtracts). The
    project's modules are imported here, from the tree on `PYTHONPATH`."""
    from corridor.runtime import tune_gc_for_a_long_lived_twin
    from corridor.scenario import load_scenario
    from streams.live.reorder import to_micros
    from streams.live.snapshots import kpi_outputs

    tune_gc_for_a_long_lived_twin()  # as `corridor worker` tunes it
    stations = load_scenario(None).stations
    events = workload.generated(stations, days, SEED)
    tail = events[-step * steps :]
    live = workload.warmed_live_twin(stations, events, len(tail), SEED, LATENESS)
    cpu = []
    for at in range(steps):
        for event in tail[at * step : (at + 1) * step]:
            live.admit(event, b"")
        watermark = to_micros(tail[(at + 1) * step - 1].ts) - LATENESS
        live.advance(watermark)
        began = time.process_time()
        if moments:
            kpi_outputs(live, watermark, datetime.now(UTC))
        cpu.append((time.process_time() - began) * 1000)
        live.twin.drain()  # as the worker's store takes them
    print(json.dumps({"events": len(events), "cpu_ms": cpu}))


def run(tree: str, days: int, steps: int, step: int) -> dict[str, object]:
    """One child on `tree`'s code; its figures."""
    environment = {**os.environ, "PYTHONPATH": str(Path(tree).resolve())}
    given = ["--child", "--days", str(days), "--steps", str(steps), "--step", str(step)]
    done = subprocess.run(
        [sys.executable, __file__, *given], env=environment, capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(f"{tree}: {done.stderr[-2000:]}")
    figures: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def moment_instructions(tree: str, days: int, steps: int, step: int) -> float:
    """Instructions of one KPI moment on `tree`'s code: a child's with the moments less one's
    without, over the moments."""
    given = ["--child", "--days", str(days), "--steps", str(steps), "--step", str(step)]
    with_moments = callgrind.instructions(__file__, Path(tree).resolve(), given)
    without = callgrind.instructions(__file__, Path(tree).resolve(), [*given, "--no-moments"])
    return (with_moments - without) / steps


def print_instructions(trees: dict[str, str], days: int, steps: int, step: int) -> None:
    """Each tree's instructions a KPI moment, and their ratio to the first tree's."""
    first = None
    for name, tree in trees.items():
        each = moment_instructions(tree, days, steps, step)
        first = first or each
        print(
            f"{days} days: {name} {each / 1e6:,.1f} M instructions a moment, "
            f"ratio to the first tree {each / first:.3f}"
        )


def main() -> None:
    parser = workload.parser(__doc__)
    parser.add_argument("--tree", action="append", default=[], help="NAME=PATH, two or more")
    parser.add_argument("--days", type=int, nargs="+", default=[4, 10])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--step", type=int, default=60, help="events between two moments")
    parser.add_argument("--instructions", action="store_true", help="callgrind, not CPU time")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-moments", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.days[0], args.steps, args.step, moments=not args.no_moments)
        return
    trees = dict(given.split("=", 1) for given in args.tree)
    if args.instructions:
        for days in args.days:
            print_instructions(trees, days, args.steps, args.step)
        return
    print(f"load average before: {os.getloadavg()}")
    for days in args.days:
        medians: dict[str, list[float]] = {name: [] for name in trees}
        for round_ in range(args.rounds):
            for name, tree in trees.items():
                figures = run(tree, days, args.steps, args.step)
                cpu = figures["cpu_ms"]
                assert isinstance(cpu, list)
                medians[name].append(statistics.median(cpu))
                print(
                    f"  {days} days ({figures['events']:,} events), round {round_ + 1}, "
                    f"{name}: median {medians[name][-1]:.2f} ms CPU a moment "
                    f"(load {os.getloadavg()[0]:.1f})"
                )
        first = statistics.median(next(iter(medians.values())))
        for name, values in medians.items():
            middle = statistics.median(values)
            print(
                f"{days} days: {name} median of {args.rounds} medians {middle:.2f} ms, "
                f"ratio to the first tree {middle / first:.3f}"
            )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()

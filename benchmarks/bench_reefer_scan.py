"""Benchmark: one reefer-alert scan (`reefer_breaches`) over the yard's index of monitored
reefers (`Yard.monitored`) against the scan of every box it replaced, on an aged twin.

The alerts scan each yard at every 15-minute boundary of event time (`streams.live.
reefer_alerts`); a yard holds hundreds of boxes of which a few dozen are read reefers. Both
scans run alternately `--repeat` times, `--calls` calls each, on the same yards; it prints
the CPU time per call (the minimum over the repeats: the least disturbed by other processes)
and checks that both give the same breaches.

    .venv/bin/python benchmarks/bench_reefer_scan.py [--days 25] [--repeat 7] [--calls 200]
"""

import itertools
import time

import workload  # type: ignore[import-not-found]

from corridor.engine.live_view import reefer_breaches
from corridor.engine.twin import replay
from stations.box import Box
from stations.yard import Yard

SEED = 2026


def every_box(yard: Yard) -> dict[str, Box]:
    """The scan before the index: every box (those without a monitor are skipped)."""
    return dict(yard.boxes)


def main() -> None:
    parser = workload.parser(__doc__, days=25)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--calls", type=int, default=200)
    args, stations = workload.begin(parser, tune_gc=False)
    events = workload.generated(stations, args.days, SEED)
    twin = replay(events, stations, SEED)
    assert twin.epoch is not None
    print(f"{len(events):,} events, {args.days} days; CPU ms per scan, min of {args.repeat}")
    print(f"{'yard':<12}{'boxes':>7}{'read':>6}{'every box':>11}{'index':>8}{'ratio':>7}")
    for sid, yard in twin.yards.items():
        index, everything = yard.monitored, every_box(yard)
        times: dict[str, list[float]] = {"every": [], "index": []}
        for _, (name, scanned) in itertools.product(
            range(args.repeat), [("every", everything), ("index", index)]
        ):
            yard.monitored = scanned
            began = time.process_time()
            for _ in range(args.calls):
                found = reefer_breaches(yard, twin.epoch)
            times[name].append((time.process_time() - began) / args.calls * 1000)
            yard.monitored = index
            assert found == reefer_breaches(yard, twin.epoch)
        full, fast = min(times["every"]), min(times["index"])
        print(
            f"{sid:<12}{len(yard.boxes):>7}{len(index):>6}{full:>11.3f}{fast:>8.3f}"
            f"{full / fast:>7.2f}"
        )


if __name__ == "__main__":
    main()

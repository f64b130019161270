"""Benchmark: replications of `corridor simulate` on all cores against one.

    .venv/bin/python benchmarks/bench_replications.py [--replications 8] [--days 7]
        [--repeat 3] [--workers N]

Runs `--replications` replications of `--days` days of the three yards' traffic (each
replication generates its own traffic and replays it, `corridor.jobs.SimulateJob`) first one
after another in this process (`Executor(workers=1)`: one core), then on the process pool with
`--workers` workers (default: every core), and prints the median wall time of `--repeat` runs
of each, the speed-up, and the load average (the machine is shared: a loaded one slows both;
the serial run's CPU seconds, printed beside it, do not depend on the load, and divided by the
cores they give the wall time an idle machine would reach at best).
Both give the same report byte for byte, which the benchmark checks. Target: the 8 x 7 days x
3 yards run on 2 cores in at most 10 s.
"""

import argparse
import os
import statistics
import time

from corridor.experiments.executors import Executor
from corridor.experiments.runs import ReplicatedRun, replicate
from corridor.jobs import SimulateJob
from corridor.kpis.report import dumps_report
from corridor.runtime import tune_gc_for_a_long_lived_twin
from corridor.scenario import DEFAULT_START, Scenario
from stations.spec import load_all_stations

TARGET_S = 10.0


def main() -> None:
    parser = argparse.ArgumentParser(description="replications on all cores against one")
    parser.add_argument("--replications", type=int, default=8)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    tune_gc_for_a_long_lived_twin()  # as the CLI does
    job = SimulateJob(Scenario(load_all_stations()), args.seed, DEFAULT_START, args.days)
    print(
        f"bench_replications: {args.replications} replications x {args.days} days x 3 yards, "
        f"seed {args.seed}; median wall time of {args.repeat} runs"
    )
    serial, pool = Executor(workers=1), Executor(workers=args.workers)
    times: dict[Executor, list[float]] = {serial: [], pool: []}
    reports: dict[Executor, bytes] = {}
    cpu = 0.0
    for _ in range(args.repeat):  # alternated, so a change in the machine's load hits both
        for executor in (serial, pool):
            cpu_began = time.process_time()
            reports[executor], seconds = _timed(job, args.replications, executor)
            times[executor].append(seconds)
            if executor is serial:
                cpu += (time.process_time() - cpu_began) / args.repeat
    one, many = statistics.median(times[serial]), statistics.median(times[pool])
    print(f"  one core (serial, in process)     {one:7.2f} s  ({cpu:.2f} CPU s)")
    print(f"  process pool, {args.workers} workers{'':<12}{many:7.2f} s")
    if reports[pool] != reports[serial]:
        raise SystemExit("the pool's report differs from the serial one: not deterministic")
    verdict = "met" if many <= TARGET_S else "missed"
    print(f"  speed-up {one / many:.2f}x; target <= {TARGET_S:.0f} s on all cores: {verdict}")
    print(f"  load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"  at best on {args.workers} idle cores: {cpu / args.workers:.2f} s + the pool's start")


def _timed(job: SimulateJob, replications: int, executor: Executor) -> tuple[bytes, float]:
    """The replicated report's bytes and the wall time it took."""
    began = time.perf_counter()
    run: ReplicatedRun = replicate(job, replications, executor)
    seconds = time.perf_counter() - began
    return dumps_report(run.report), seconds


if __name__ == "__main__":
    main()

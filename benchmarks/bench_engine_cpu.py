"""CPU seconds of the engine alone (`corridor.engine.twin.replay`) on one log, for A/B runs.

On these shared machines wall time swings with the load of other sessions; the CPU time of
this process swings much less. To compare two commits, write a log once, then run this script
in each worktree, alternating, and compare the medians printed:

    .venv/bin/python benchmarks/bench_engine_cpu.py --days 10 --write /tmp/ten.jsonl
    .venv/bin/python benchmarks/bench_engine_cpu.py --log /tmp/ten.jsonl --repeat 3
"""

import argparse
import statistics
import time
from pathlib import Path

from corridor.contract import eventlog
from corridor.contract.events import Event
from corridor.engine.twin import replay
from corridor.runtime import tune_gc_for_a_long_lived_twin
from corridor.scenario import DEFAULT_START
from corridor.traffic.generator import generate
from stations.spec import load_all_stations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", type=Path, help="a log to replay (else --days are generated)")
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--write", type=Path, help="write the generated log here and stop")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    stations = load_all_stations()
    if args.log is not None:
        events = [item for item in eventlog.read_log(args.log) if isinstance(item, Event)]
    else:
        events = list(generate(stations, days=args.days, seed=args.seed, start=DEFAULT_START))
    if args.write is not None:
        eventlog.write_log(events, args.write)
        print(f"wrote {len(events):,} events to {args.write}")
        return
    tune_gc_for_a_long_lived_twin()
    runs = []
    for _ in range(args.repeat):
        began = time.process_time()
        replay(events, stations, args.seed)
        runs.append(time.process_time() - began)
    median = statistics.median(runs)
    print(f"{len(events):,} events; engine CPU s, median of {args.repeat}: {median:.3f}")
    print(f"engine events per CPU s: {len(events) / median:,.0f}")


if __name__ == "__main__":
    main()

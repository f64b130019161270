"""Benchmark: the live twin's engine phase against the engine alone, in instructions (callgrind).

The worker's engine phase is `LiveTwin.advance`: the released events applied to the engine as
`corridor replay` applies them, plus what only a live twin does, the reefer alerts decided at
every 15-minute boundary of each yard (`streams.live.reefer_alerts`) and the daily `forget`.
This runs, under `valgrind --tool=callgrind`, children on the same generated events: one that
only generates them (the setup, subtracted), the engine alone (`corridor.engine.twin.replay`),
and the live twin alone, without the worker around it: each batch of `--batch` events admitted
(`LiveTwin.admit`, the accept path's last step), then the watermark moved to the newest event
less the worker's default lateness and the records drained, as the catching-up worker does
batch by batch. `--no-alerts` adds a third child, the live twin without reefer alerts, which
tells the alerts' share. For each `--tree` given (a checkout, first on `PYTHONPATH`), it prints
instructions an event, the live twin less the engine alone (its excess), and each tree's
against the first. Instruction counts do not move with the machine's load; string hashing is
seeded alike in every child (`PYTHONHASHSEED`).

    .venv/bin/python benchmarks/bench_live_instructions.py [--events 60000] [--no-alerts] \
        [--tree /tmp/base] [--tree .]
"""

import argparse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import callgrind  # type: ignore[import-not-found]  # beside this script

SEED = 2026


def child(mode: str, count: int, batch: int) -> None:
    """Generate `count` events, then run `mode` on them (in the tree on `PYTHONPATH`)."""
    import workload  # type: ignore[import-not-found]

    from corridor.engine.twin import replay
    from corridor.runtime import tune_gc_for_a_long_lived_twin
    from corridor.scenario import load_scenario
    from streams.live.reefer_alerts import ReeferAlerts
    from streams.live.reorder import to_micros
    from streams.live.twin import LiveTwin
    from streams.settings import KafkaSettings

    tune_gc_for_a_long_lived_twin()
    stations = load_scenario(None).stations
    events = list(workload.backlog(stations, count, SEED))
    micros = [to_micros(event.ts) for event in events]
    if mode == "engine":
        replay(events, stations, SEED)
    elif mode in ("live", "live-no-alerts"):
        settings = KafkaSettings(bootstrap_servers="in-process:0", group_id="bench")
        lateness = settings.lateness.total_seconds() * 1_000_000
        alerts = ReeferAlerts.of(settings) if mode == "live" else None
        live = LiveTwin(stations, SEED, alerts=alerts)
        for start in range(0, count, batch):
            for event, ts in zip(
                events[start : start + batch], micros[start : start + batch], strict=True
            ):
                live.admit(event, b"", None, ts)
            assert live.newest is not None
            live.advance(live.newest - int(lateness))
            assert live.twin is not None
            live.twin.drain()
        assert live.newest is not None
        live.advance(live.newest)


def instructions(tree: Path, mode: str, count: int, batch: int) -> int:
    """Instructions a child in `mode` executes under callgrind, with `tree` first on the path."""
    child = ["--child", mode, "--events", str(count), "--batch", str(batch)]
    return callgrind.instructions(__file__, tree, child)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=60_000)
    parser.add_argument("--batch", type=int, default=10_000, help="events admitted per advance")
    parser.add_argument("--no-alerts", action="store_true", help="also the live twin without")
    parser.add_argument("--tree", type=Path, action="append", help="default: this checkout")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.events, args.batch)
        return
    trees = [tree.resolve() for tree in args.tree or [Path(__file__).resolve().parents[1]]]
    modes = ["setup", "engine", "live", *(["live-no-alerts"] if args.no_alerts else [])]
    runs = [(tree, mode) for tree in trees for mode in modes]
    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = list(pool.map(lambda run: instructions(*run, args.events, args.batch), runs))
    counted = dict(zip(runs, counts, strict=True))
    print(f"{args.events:,} events, instructions an event (callgrind, setup subtracted)")
    header = f"{'tree':<36}{'engine':>9}{'live':>9}{'excess':>9}{'live vs first':>15}"
    print(header + (f"{'no alerts':>11}" if args.no_alerts else ""))
    first = None
    for tree in trees:
        setup = counted[(tree, "setup")]
        engine, live, *rest = ((counted[(tree, mode)] - setup) / args.events for mode in modes[1:])
        first = first or live
        line = f"{str(tree)[-36:]:<36}{engine:>9,.0f}{live:>9,.0f}{live - engine:>9,.0f}"
        line += f"{live / first:>15.3f}"
        print(line + "".join(f"{value:>11,.0f}" for value in rest))


if __name__ == "__main__":
    main()

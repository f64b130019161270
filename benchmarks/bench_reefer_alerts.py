"""What deciding reefer alerts costs the live twin: the same generated days through
`streams.live.twin.LiveTwin` (admitted, then advanced every `--batch` events, as a catching-up
worker or a rebuild does) without alerts and with them (`streams.live.reefer_alerts`, decided
every 15 min of event time per yard), alternating, and prints the median seconds of each and
their ratio, measured in the same run.

    .venv/bin/python benchmarks/bench_reefer_alerts.py [--days 14] [--repeat 3] [--batch 1000]
"""

import statistics
import time
from datetime import timedelta

import workload  # type: ignore[import-not-found]

from corridor.contract.events import Event
from corridor.scenario import load_scenario
from streams.live.reefer_alerts import ReeferAlerts
from streams.live.reorder import to_micros
from streams.live.twin import LiveTwin

SEED = 11
EVERY = timedelta(minutes=15) // timedelta(microseconds=1)
LATENESS = timedelta(minutes=5) // timedelta(microseconds=1)


def run(events: list[Event], batch: int, alerts: bool) -> tuple[float, int]:
    """Seconds to admit and advance every event, and the alerts decided."""
    stations = load_scenario(None).stations
    live = LiveTwin(stations, SEED, alerts=ReeferAlerts(60.0, EVERY) if alerts else None)
    began = time.perf_counter()
    for index, event in enumerate(events, 1):
        live.admit(event, b"")
        if index % batch == 0:
            live.advance(to_micros(event.ts) - LATENESS)
    live.advance(to_micros(events[-1].ts))
    return time.perf_counter() - began, len(live.take_alerts())


def main() -> None:
    parser = workload.parser(__doc__, days=14)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch", type=int, default=1000)
    args, stations = workload.begin(parser, tune_gc=False)
    events = workload.generated(stations, args.days, SEED)
    without, with_alerts, decided = [], [], 0
    for _ in range(args.repeat):
        without.append(run(events, args.batch, alerts=False)[0])
        seconds, decided = run(events, args.batch, alerts=True)
        with_alerts.append(seconds)
    plain, alerted = statistics.median(without), statistics.median(with_alerts)
    print(f"{args.days} days, {len(events):,} events, advanced every {args.batch} events")
    print(f"{'run':<24}{'median s':>10}{'events/s':>12}")
    print(f"{'without alerts':<24}{plain:>10.2f}{len(events) / plain:>12,.0f}")
    print(f"{'with alerts':<24}{alerted:>10.2f}{len(events) / alerted:>12,.0f}")
    print(f"with / without: {alerted / plain:.3f}; alerts decided: {decided}")


if __name__ == "__main__":
    main()

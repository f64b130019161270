"""Benchmark: what a group member's KPI snapshot costs against the yards its twin holds.

A member's live twin models every yard of the scenario but is fed only its partitions' events;
`kpi_outputs` computes every yard's windows and partials whatever it holds (the batch then
keeps the member's own: `streams.rebalance.keep_owned`). Twins are fed `--days` of generated
traffic of all the yards, of the biggest alone, and of the other two, and each computes
`--repeats` snapshots at hourly boundaries; prints the median milliseconds of each, so the part
of a snapshot that does not shrink with the yards held is read off side by side:
    .venv/bin/python benchmarks/bench_member_snapshot.py [--days 10] [--repeats 7]
"""

import statistics
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import workload  # type: ignore[import-not-found]

from corridor.contract.events import Event, encode_event
from stations.spec import StationSpec
from streams.live.reorder import to_micros
from streams.live.snapshots import kpi_outputs
from streams.live.twin import LiveTwin

SEED = 2026
HOUR = 3_600_000_000  # microseconds


def main() -> None:
    parser = workload.parser(__doc__, days=10)
    parser.add_argument("--repeats", type=int, default=7)
    args, stations = workload.begin(parser, tune_gc=True)
    events = workload.generated(stations, args.days, SEED)
    counts = {yard: sum(event.yard == yard for event in events) for yard in stations}
    biggest = max(counts, key=counts.__getitem__)
    print(f"{len(events):,} events over {args.days} days: {counts}")
    for held in (set(stations), {biggest}, set(stations) - {biggest}):
        costs = snapshot_costs(stations, events, held, args.repeats)
        share = sum(counts[yard] for yard in held) / len(events)
        print(f"twin holding {', '.join(sorted(held)):<34} ({share:4.0%} of the events): "
              f"{1000 * statistics.median(costs):6.0f} ms a snapshot")  # fmt: skip


def snapshot_costs(
    stations: dict[str, StationSpec], events: Sequence[Event], held: set[str], repeats: int
) -> list[float]:
    """Seconds of `repeats` snapshots, an hour apart, of a twin fed the `held` yards' events."""
    live = LiveTwin(stations, SEED)
    for event in events:
        if event.yard in held:
            live.admit(event, encode_event(event))
    newest = max(to_micros(event.ts) for event in events)
    last = newest - newest % HOUR - HOUR
    live.advance(last)
    costs = []
    for step in range(repeats):
        began = time.perf_counter()
        kpi_outputs(live, last - step * HOUR, datetime.now(UTC))
        costs.append(time.perf_counter() - began)
    return costs


if __name__ == "__main__":
    main()

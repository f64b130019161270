"""Benchmark: how good the next-shift forecast is, and what it costs (a backtest).

    .venv/bin/python benchmarks/bench_forecast.py [--days 28] [--hours 8] [--replications 8]
        [--origins 20] [--workers 2] [--seed 1]

Generates `--days` days of the three yards' traffic (seed `--seed`) and replays the whole log
once: that twin is "what then happened". Then, at `--origins` moments spread over the days
after the first week (the forecast's history reaches 7 days back), it forecasts the next
`--hours` hours from the log up to that moment (`corridor.forecast`: replay of the last 7
days, `--replications` replications, `--workers` forked at a time) and compares every yard-hour
with what happened, measured alike (`corridor.forecast.measures`).

Prints, per KPI, the coverage of the p10-p90 band (the share of yard-hours whose outcome lies
in it; target 70-90 % for gate queue and turnaround), also over the hours where the band or the
outcome is not zero (a quiet gate is easy to forecast), the mean width of the band, its bias
(mean of outcome - p50), and the median cost of one forecast (target: three yards, 8 h, 8
replications in at most 5 s on 2 cores), with the load average and the CPU seconds (the
machine is shared: CPU seconds / cores is the wall time an idle machine would reach at best).
"""

import argparse
import os
import resource
import statistics
import time
from collections import defaultdict
from datetime import datetime, timedelta

from corridor.engine.clock import to_minutes
from corridor.engine.twin import Twin, replay
from corridor.forecast.bands import Band, Forecast
from corridor.forecast.measures import HOURLY, boxes_over_24h, hour_edges, hourly, trains_late
from corridor.forecast.run import forecast
from corridor.forecast.start_state import DEFAULT_LOOKBACK, replay_start
from corridor.runtime import tune_gc_for_a_long_lived_twin
from corridor.scenario import DEFAULT_START
from corridor.traffic.generator import generate
from stations.spec import load_all_stations

TARGET_S = 5.0
TARGET_COVERAGE = (0.70, 0.90)


def main() -> None:
    parser = argparse.ArgumentParser(description="backtest of the next-shift forecast")
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--hours", type=int, default=8)
    parser.add_argument("--replications", type=int, default=8)
    parser.add_argument("--origins", type=int, default=20)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--lookback-days", type=float, default=DEFAULT_LOOKBACK.days)
    args = parser.parse_args()
    tune_gc_for_a_long_lived_twin()
    stations = load_all_stations()
    events = list(generate(stations, days=args.days, seed=args.seed, start=DEFAULT_START))
    truth = replay(events, stations, args.seed)
    assert truth.epoch is not None
    lookback = timedelta(days=args.lookback_days)
    first = DEFAULT_START + max(lookback, DEFAULT_LOOKBACK)
    span = DEFAULT_START + timedelta(days=args.days, hours=-args.hours - 4) - first
    step = span / args.origins
    hits: dict[str, list[tuple[bool, bool]]] = defaultdict(list)  # kpi -> (held, trivial)
    widths: dict[str, list[tuple[float, float]]] = defaultdict(list)  # (width, outcome - p50)
    trains: list[tuple[float, bool]] = []  # (forecast late share, late in truth)
    costs: list[float] = []
    cpus: list[float] = []
    print(
        f"bench_forecast: {args.days} days x 3 yards, seed {args.seed}; {args.origins} "
        f"forecasts of {args.hours} h x {args.replications} replications, {args.workers} workers"
    )
    for index in range(args.origins):
        now = (first + step * index).replace(minute=0, second=0, microsecond=0)
        start = replay_start(events, stations, args.seed, now, lookback)
        began, cpu = time.perf_counter(), _cpu_s()
        result = forecast(
            start,
            seed=args.seed,
            hours=args.hours,
            replications=args.replications,
            workers=args.workers,
        )
        costs.append(time.perf_counter() - began)
        cpus.append(_cpu_s() - cpu)
        _score(result, truth, now, args.hours, hits, widths, trains)
    _print(hits, widths, trains, costs, cpus)


def _score(
    result: Forecast,
    truth: Twin,
    now: datetime,
    hours: int,
    hits: dict[str, list[tuple[bool, bool]]],
    widths: dict[str, list[tuple[float, float]]],
    trains: list[tuple[float, bool]],
) -> None:
    assert truth.epoch is not None
    begin = to_minutes(result.now, truth.epoch)
    edges = hour_edges(begin, hours)
    end = float(edges[-1])
    for sid, yard_forecast in result.yards.items():
        yard = truth.yards[sid]
        happened = hourly(yard, edges)
        for name in HOURLY:
            for h, hour in enumerate(yard_forecast.hours):
                _tally(name, getattr(hour, name), happened[name][h], hits, widths)
        at_end = _boxes_at(truth, sid, end)
        _tally("boxes_over_24h", yard_forecast.boxes_over_24h, at_end, hits, widths)
        risk = {train.train_id: train.late_share for train in yard_forecast.trains_at_risk}
        for train, was_late in trains_late(yard, begin, end).items():
            trains.append((risk.get(train, 0.0), was_late))


def _boxes_at(truth: Twin, yard: str, at: float) -> float:
    """Boxes over 24 h old just before `at` in the truth twin (as the forecast counts them: a
    train leaving at `at` has not left), from its box records and the boxes still open."""
    count = sum(
        1
        for visit in truth.yards[yard].records.box_visits
        if visit.entered <= at - 1440.0 and visit.left >= at
    )
    return float(count + boxes_over_24h(truth.yards[yard], at))


def _tally(
    name: str,
    band: Band,
    outcome: float,
    hits: dict[str, list[tuple[bool, bool]]],
    widths: dict[str, list[tuple[float, float]]],
) -> None:
    held = band.holds(outcome)
    if held is None:
        return
    assert band.p10 is not None
    assert band.p50 is not None
    assert band.p90 is not None
    trivial = band.p90 == 0.0 and outcome == 0.0
    hits[name].append((held, trivial))
    widths[name].append((band.p90 - band.p10, outcome - band.p50))


def _print(
    hits: dict[str, list[tuple[bool, bool]]],
    widths: dict[str, list[tuple[float, float]]],
    trains: list[tuple[float, bool]],
    costs: list[float],
    cpus: list[float],
) -> None:
    low, high = TARGET_COVERAGE
    print(
        f"{'KPI':<16} {'cases':>6} {'coverage':>9} {'non-zero cases':>15} "
        f"{'coverage':>9} {'mean width':>11} {'bias':>8}  target"
    )
    for name in (*HOURLY, "boxes_over_24h"):
        cases = hits[name]
        if not cases:
            print(f"{name:<16} {0:>6} (no case)")
            continue
        live = [held for held, trivial in cases if not trivial]
        coverage = sum(held for held, _ in cases) / len(cases)
        live_coverage = sum(live) / len(live) if live else float("nan")
        target = f"{low:.0%}-{high:.0%}" if name in ("gate_queue", "turnaround_min") else "-"
        met = "" if target == "-" else (" met" if low <= coverage <= high else " NOT met")
        print(
            f"{name:<16} {len(cases):>6} {coverage:>9.1%} {len(live):>15} {live_coverage:>9.1%} "
            f"{statistics.fmean(w for w, _ in widths[name]):>11.2f} "
            f"{statistics.fmean(e for _, e in widths[name]):>8.2f}  {target}{met}"
        )
    late = [share for share, was in trains if was]
    on_time = [share for share, was in trains if not was]
    print(
        f"trains due: {len(trains)}, late in truth: {len(late)}; forecast late share: "
        f"{_mean(late)} for those late, {_mean(on_time)} for those on time"
    )
    median = statistics.median(costs)
    verdict = "met" if median <= TARGET_S else "NOT met"
    load = os.getloadavg()[0]
    print(
        f"cost of one forecast: median {median:.2f} s (min {min(costs):.2f}, max "
        f"{max(costs):.2f}) over {len(costs)}; target <= {TARGET_S:.0f} s {verdict}; "
        f"load average {load:.1f}; CPU seconds (this process and its children) median "
        f"{statistics.median(cpus):.2f}"
    )


def _cpu_s() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _mean(values: list[float]) -> str:
    return f"{statistics.fmean(values):.2f}" if values else "n/a"


if __name__ == "__main__":
    main()

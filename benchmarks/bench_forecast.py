"""Benchmark: how good the next-shift forecast is, and what it costs (a backtest).

    .venv/bin/python benchmarks/bench_forecast.py [--days 28] [--hours 8] [--replications 8]
        [--origins 20] [--workers 2] [--seed 1]

Generates `--days` days of the three yards' traffic (seed `--seed`) and replays the whole log
once: that twin is "what then happened". Then, at `--origins` moments spread over the days
after the first week (a replayed start reaches 7 days back), it forecasts the next `--hours`
hours two ways, which give the same forecast (`tests/test_forecast_live.py`), and compares
every yard-hour with what happened, measured alike (`corridor.forecast.measures`):

- "replayed": the yards rebuilt from the log's last 7 days (`replay_start`), then the
  replications forked (as the API did before the worker forecast);
- "snapshot": from the twin's snapshot at that moment (as the worker does:
  `corridor.forecast.live_start`): the snapshot encoded (the worker's cost), decoded and
  forecast (the forecast process's); its twin is built before the clock starts (the worker
  has it).

Prints, per KPI, the coverage of the p10-p90 band two ways: naive (the share of yard-hours
whose outcome lies in the band) and proper (`corridor.forecast.coverage`: ties between the
outcome and the replications broken at random, so a [0, 0] band "holding" an outcome of 0
counts 7/9, not 1; a perfect model scores `nominal`), the target being 70-90 % for gate queue
and turnaround; the mean width of the band, its bias (mean of outcome - p50); then the cost
of one forecast (target: three yards, 8 h, 8 replications in at most 5 s on 2 cores) for both
starts, wall and CPU seconds (this process and its children) as medians, with the load
average (the machine is shared: CPU seconds / cores is the wall time an idle machine would
reach at best), and where one replication's time goes.
"""

import argparse
import os
import resource
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from corridor.engine.clock import to_minutes
from corridor.engine.snapshots import TwinSnapshot, decode, encode
from corridor.engine.twin import Twin, replay
from corridor.forecast.bands import Band, Forecast, summarise
from corridor.forecast.coverage import nominal, randomized_coverage
from corridor.forecast.future import future_events
from corridor.forecast.live_start import live_start
from corridor.forecast.measures import (
    HOURLY,
    YardOutcome,
    boxes_over_24h,
    hour_edges,
    hourly,
    trains_late,
)
from corridor.forecast.run import ForecastJob, check_hours, run_replications
from corridor.forecast.start_state import (
    DEFAULT_LOOKBACK,
    ReplayStart,
    StartState,
    replay_start,
    snapshot_start,
)
from corridor.runtime import tune_gc_for_a_long_lived_twin
from corridor.scenario import DEFAULT_START
from corridor.traffic.generator import generate
from stations.spec import StationSpec, load_all_stations

TARGET_S = 5.0
TARGET_COVERAGE = (0.70, 0.90)
Outcomes = list[dict[str, YardOutcome]]


@dataclass
class Tally:
    """Per KPI: (naive held, proper coverage) per case, (width, outcome - p50) per case."""

    hits: dict[str, list[tuple[bool, float]]] = field(default_factory=lambda: defaultdict(list))
    widths: dict[str, list[tuple[float, float]]] = field(default_factory=lambda: defaultdict(list))
    trains: list[tuple[float, bool]] = field(default_factory=list)  # (late share, late in truth)
    costs: dict[str, list[tuple[float, float]]] = field(default_factory=lambda: defaultdict(list))


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
    check_hours(args.hours)
    tune_gc_for_a_long_lived_twin()
    stations = load_all_stations()
    events = list(generate(stations, days=args.days, seed=args.seed, start=DEFAULT_START))
    truth = replay(events, stations, args.seed)
    assert truth.epoch is not None
    lookback = timedelta(days=args.lookback_days)
    first = DEFAULT_START + max(lookback, DEFAULT_LOOKBACK)
    span = DEFAULT_START + timedelta(days=args.days, hours=-args.hours - 4) - first
    step = span / args.origins
    tally = Tally()
    print(
        f"bench_forecast: {args.days} days x 3 yards, seed {args.seed}; {args.origins} "
        f"forecasts of {args.hours} h x {args.replications} replications, {args.workers} "
        f"workers; load average {os.getloadavg()[0]:.1f} at the start"
    )
    for index in range(args.origins):
        now = (first + step * index).replace(minute=0, second=0, microsecond=0)
        replayed = replay_start(events, stations, args.seed, now, lookback)
        outcomes = _timed(tally, "replayed", partial(_run, replayed, args))
        twin_at_now = snapshot_start(replayed).snapshot  # the worker holds its twin already
        live = _timed(tally, "snapshot", partial(_from_snapshot, twin_at_now, stations, now, args))
        same = repr(live) == repr(outcomes)  # repr: NaN (an hour without a truck) equals NaN
        assert same, "the snapshot start must forecast what the replayed one does"
        _score(summarise(now, args.hours, outcomes), outcomes, truth, args.hours, tally)
    _print(tally, args.replications)
    _phases(replayed, args.seed, args.hours)


def _run(start: StartState, args: argparse.Namespace) -> Outcomes:
    job = ForecastJob(start, args.seed, args.hours)
    return run_replications(job, args.replications, args.workers)


def _from_snapshot(
    snapshot: TwinSnapshot,
    stations: Mapping[str, StationSpec],
    now: datetime,
    args: argparse.Namespace,
) -> Outcomes:
    """The worker's way: its twin's snapshot encoded, then decoded and forecast."""
    return _run(live_start(decode(encode(snapshot)), stations, now), args)


def _timed(tally: Tally, name: str, run: Callable[[], Outcomes]) -> Outcomes:
    began, cpu = time.perf_counter(), _cpu_s()
    result = run()
    tally.costs[name].append((time.perf_counter() - began, _cpu_s() - cpu))
    return result


def _score(result: Forecast, outcomes: Outcomes, truth: Twin, hours: int, tally: Tally) -> None:
    assert truth.epoch is not None
    begin = to_minutes(result.now, truth.epoch)
    edges = hour_edges(begin, hours)
    end = float(edges[-1])
    for sid, yard_forecast in result.yards.items():
        yard = truth.yards[sid]
        happened = hourly(yard, edges)
        for name in HOURLY:
            for h, hour in enumerate(yard_forecast.hours):
                members = [run[sid].hourly[name][h] for run in outcomes]
                _tally(name, getattr(hour, name), members, happened[name][h], tally)
        members = [float(run[sid].boxes_over_24h) for run in outcomes]
        at_end = _boxes_at(truth, sid, end)
        _tally("boxes_over_24h", yard_forecast.boxes_over_24h, members, at_end, tally)
        risk = {train.train_id: train.late_share for train in yard_forecast.trains_at_risk}
        for train, was_late in trains_late(yard, begin, end).items():
            tally.trains.append((risk.get(train, 0.0), was_late))


def _boxes_at(truth: Twin, yard: str, at: float) -> float:
    """Boxes over 24 h old just before `at` in the truth twin (as the forecast counts them: a
    train leaving at `at` has not left), from its box records and the boxes still open."""
    count = sum(
        1
        for visit in truth.yards[yard].records.box_visits
        if visit.entered <= at - 1440.0 and visit.left >= at
    )
    return float(count + boxes_over_24h(truth.yards[yard], at))


def _tally(name: str, band: Band, members: list[float], outcome: float, tally: Tally) -> None:
    held = band.holds(outcome)
    proper = randomized_coverage(members, outcome)
    if held is None or proper is None:
        return
    assert band.p10 is not None
    assert band.p50 is not None
    assert band.p90 is not None
    tally.hits[name].append((held, proper))
    tally.widths[name].append((band.p90 - band.p10, outcome - band.p50))


def _print(tally: Tally, replications: int) -> None:
    low, high = TARGET_COVERAGE
    print(
        f"p10-p90 coverage: naive = outcome in the band; proper = ties broken at random "
        f"(corridor.forecast.coverage), a perfect model scores {nominal(replications):.1%}"
    )
    print(
        f"{'KPI':<16} {'cases':>6} {'naive':>7} {'proper':>7} {'ties':>6} "
        f"{'mean width':>11} {'bias':>8}  target (proper)"
    )
    for name in (*HOURLY, "boxes_over_24h"):
        cases = tally.hits[name]
        if not cases:
            print(f"{name:<16} {0:>6} (no case)")
            continue
        naive = statistics.fmean(float(held) for held, _ in cases)
        proper = statistics.fmean(value for _, value in cases)
        tied = sum(1 for held, value in cases if held != value) / len(cases)
        target = f"{low:.0%}-{high:.0%}" if name in ("gate_queue", "turnaround_min") else "-"
        met = "" if target == "-" else (" met" if low <= proper <= high else " NOT met")
        print(
            f"{name:<16} {len(cases):>6} {naive:>7.1%} {proper:>7.1%} {tied:>6.1%} "
            f"{statistics.fmean(w for w, _ in tally.widths[name]):>11.2f} "
            f"{statistics.fmean(e for _, e in tally.widths[name]):>8.2f}  {target}{met}"
        )
    late = [share for share, was in tally.trains if was]
    on_time = [share for share, was in tally.trains if not was]
    print(
        f"trains due: {len(tally.trains)}, late in truth: {len(late)}; forecast late share: "
        f"{_mean(late)} for those late, {_mean(on_time)} for those on time"
    )
    load = os.getloadavg()[0]
    for name, costs in tally.costs.items():
        wall = statistics.median(w for w, _ in costs)
        cpu = statistics.median(c for _, c in costs)
        verdict = "met" if wall <= TARGET_S else "NOT met"
        print(
            f"cost of one forecast ({name} start): wall median {wall:.2f} s (min "
            f"{min(w for w, _ in costs):.2f}, max {max(w for w, _ in costs):.2f}) over "
            f"{len(costs)}, target <= {TARGET_S:.0f} s {verdict}; CPU median {cpu:.2f} s"
        )
    replayed = statistics.median(c for _, c in tally.costs["replayed"])
    snapshot = statistics.median(c for _, c in tally.costs["snapshot"])
    print(f"snapshot/replayed CPU: {snapshot / replayed:.2f}; load average {load:.1f} at the end")


def _phases(start: ReplayStart, seed: int, hours: int) -> None:
    """Where one replication's time goes (serial, this process; CPU seconds)."""
    spent: dict[str, float] = {}
    cpu = _own_cpu_s()
    twin = replay(start.history, start.stations, seed, until=start.now)
    twin.advance_to(start.now)
    spent["history replay (replayed start, once)"] = _own_cpu_s() - cpu
    snapshot = twin.snapshot()
    cpu = _own_cpu_s()
    data = encode(snapshot)
    spent["snapshot encode (worker)"] = _own_cpu_s() - cpu
    cpu = _own_cpu_s()
    snapshot = decode(data)
    spent["snapshot decode (forecast process)"] = _own_cpu_s() - cpu
    cpu = _own_cpu_s()
    twin = Twin.fork(snapshot, start.stations, 1)
    spent["restore one fork (Twin.fork)"] = _own_cpu_s() - cpu
    cpu = _own_cpu_s()
    until = start.now + timedelta(hours=hours)
    events = future_events(
        twin,
        seed=seed,
        now=start.now,
        until=until,
        replication=1,
        claimed_pickups=start.claimed_pickups,
    )
    spent["generate the future traffic"] = _own_cpu_s() - cpu
    cpu = _own_cpu_s()
    for event in sorted(events, key=lambda event: event.ts):
        twin.apply(event)
    twin.advance_to(until + timedelta(hours=4))
    spent[f"run {hours} h (+4 h to settle)"] = _own_cpu_s() - cpu
    print("one replication, CPU s: " + "; ".join(f"{k} {v:.2f}" for k, v in spent.items()))


def _cpu_s() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _own_cpu_s() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def _mean(values: list[float]) -> str:
    return f"{statistics.fmean(values):.2f}" if values else "n/a"


if __name__ == "__main__":
    main()

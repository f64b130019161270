"""Replay speed of the twin beside a bare SimPy gate-then-crane loop (our ceiling).

Generates `--days` of realistic traffic for the three yards (once, written to a JSONL log),
then replays the log `--repeat` times: decode + engine + record frames + KPIs. Prints the
median wall time and events/s, truck visits/s and simulated days per second, beside the
same truck count pushed through a bare SimPy model (one gate resource, one crane resource,
exponential times) in the same run. `--days 365` checks the one-year target (< 60 s for
generate + replay on one core).

    .venv/bin/python benchmarks/bench_replay.py --days 30
"""

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

import numpy as np
import simpy

from corridor.contract import eventlog
from corridor.contract.events import Event
from corridor.engine.clock import to_minutes
from corridor.engine.twin import replay
from corridor.kpis.record_frames import record_frames
from corridor.kpis.report import compute_kpis
from corridor.runtime import tune_gc_for_a_long_lived_twin
from corridor.scenario import DEFAULT_START
from corridor.traffic.generator import generate
from stations.spec import StationSpec, load_all_stations
from stations.types import ProcessGenerator

T = TypeVar("T")


def bare_simpy(trucks: int, seed: int = 1) -> float:
    """Seconds for `trucks` trucks through gate (8 lanes) then crane (9), exponential times."""
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(0.8, trucks).tolist()
    gate_times = rng.exponential(0.6, trucks).tolist()
    lift_times = rng.exponential(3.3, trucks).tolist()
    env = simpy.Environment()
    gate, crane = simpy.Resource(env, 8), simpy.Resource(env, 9)

    def truck(i: int) -> ProcessGenerator:
        with gate.request() as request:
            yield request
            yield env.timeout(gate_times[i])
        with crane.request() as request:
            yield request
            yield env.timeout(lift_times[i])

    def source() -> ProcessGenerator:
        for i in range(trucks):
            yield env.timeout(gaps[i])
            env.process(truck(i))

    began = time.perf_counter()
    env.process(source())
    env.run()
    return time.perf_counter() - began


def timed(action: Callable[[], T]) -> tuple[float, T]:
    began = time.perf_counter()
    result = action()
    return time.perf_counter() - began, result


PHASES = ("read + decode", "engine", "record frames", "KPIs")


def replay_once(
    log: Path,
    stations: dict[str, StationSpec],
    seed: int,
    until: datetime,
    phases: dict[str, list[float]],
) -> tuple[float, int]:
    """One replay of the log, end to end; returns (seconds, truck visits), phases noted."""
    began = time.perf_counter()
    read_s, items = timed(lambda: list(eventlog.read_log(log)))
    events: list[Event] = [item for item in items if not isinstance(item, eventlog.LogError)]
    engine_s, twin = timed(lambda: replay(events, stations, seed, until=until))
    epoch = twin.epoch
    assert epoch is not None
    frames_s, frames = timed(lambda: record_frames(twin))
    kpis_s, _ = timed(
        lambda: compute_kpis(
            frames,
            start=to_minutes(DEFAULT_START, epoch),
            end=to_minutes(until, epoch),
            stations=stations,
        )
    )
    for name, seconds in zip(PHASES, (read_s, engine_s, frames_s, kpis_s), strict=True):
        phases[name].append(seconds)
    return time.perf_counter() - began, len(frames["truck_visits"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    tune_gc_for_a_long_lived_twin()  # as the `corridor` command does; applies to both sides
    stations = load_all_stations()
    until = DEFAULT_START + timedelta(days=args.days)

    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "traffic.jsonl"
        gen_s, written = timed(
            lambda: eventlog.write_log(
                generate(stations, days=args.days, seed=args.seed, start=DEFAULT_START), log
            )
        )
        replay_runs, bare_runs = [], []
        phases: dict[str, list[float]] = {name: [] for name in PHASES}
        trucks = 0
        for _ in range(args.repeat):
            seconds, trucks = replay_once(log, stations, args.seed, until, phases)
            replay_runs.append(seconds)
            bare_runs.append(bare_simpy(trucks))

    events = written
    replay_s, bare_s = statistics.median(replay_runs), statistics.median(bare_runs)
    print(f"traffic: {args.days} days, 3 yards, {events:,} events, {trucks:,} truck visits")
    print(f"generate + write JSONL: {gen_s:.2f} s ({events / gen_s:,.0f} events/s)")
    print(
        f"replay (read, decode, simulate, frames, KPIs), median of {args.repeat}: {replay_s:.2f} s"
    )
    print(f"  events/s          {events / replay_s:>12,.0f}")
    print(f"  truck visits/s    {trucks / replay_s:>12,.0f}")
    print(f"  sim days/s        {args.days / replay_s:>12,.1f}")
    for name, runs in phases.items():
        print(f"  {name + ':':<18}{statistics.median(runs):>8.2f} s")
    print(f"bare SimPy gate+crane, same trucks, median: {bare_s:.2f} s")
    print(f"  truck visits/s    {trucks / bare_s:>12,.0f}")
    print(f"twin / bare SimPy truck rate: {bare_s / replay_s:.2f}")
    print(
        f"generate + one replay: {gen_s + replay_s:.1f} s for {args.days} days "
        f"(one-year target < 60 s: {(gen_s + replay_s) * 365 / args.days:.1f} s extrapolated)"
    )


if __name__ == "__main__":
    main()

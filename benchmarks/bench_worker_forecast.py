"""Benchmark: does forecasting slow the worker's consume loop? Catch-up with forecasts off and on.

    .venv/bin/python benchmarks/bench_worker_forecast.py [--days 7] [--rounds 3] [--niced-only]

Starts the embedded broker and, per run, publishes `--days` days of generated traffic onto
fresh topics, then times a worker (SQLite store, `connect_worker`) catching up on them, from
its first batch to the last event consumed, in three modes, interleaved round by round so the
machine's load falls on all alike:

- off: `CORRIDOR_FORECAST_EVERY_MIN=0`, no forecast at all;
- on: the default schedule (`streams.forecast_schedule`): while catching up (full batches) it
  only checks, so this is the schedule's own cost;
- on, forecasting: as "on", and a forecast (24 h, 8 replications, 2 forked at a time, the
  defaults) computed non-stop (the clock starts once the process has started and lowered its
  priority) in the forecast process (SCHED_IDLE and niced, the default; with
  `--niced-only`, niced only) during the whole catch-up, from a snapshot of the yards a week
  in: the worst case, a forecast under way when a backlog comes.

Prints each mode's median events/s over `--rounds` and its ratio to "off", with the load
average (the machine is shared; a ratio measured in one run is what to quote).
"""

import os
import statistics
import tempfile
import threading
import time
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

import workload  # type: ignore[import-not-found]

from api.store.sql_store import SqlStore
from corridor.engine.snapshots import encode
from corridor.engine.twin import replay
from corridor.forecast.live_start import LiveForecastJob
from corridor.forecast.yard_parts import PartsOwner
from corridor.scenario import DEFAULT_START
from stations.spec import StationSpec
from streams.broker import EmbeddedBroker
from streams.connect import connect_worker
from streams.forecast_schedule import ForecastSchedule, ForecastSettings, _Waiting
from streams.publish import publish
from streams.settings import KafkaSettings

SEED = 2026
MODES = ("off", "on", "on, forecasting")


class Discard:
    """A forecast sink for the background forecasts: they are computed, not kept."""

    def put_yard_forecasts(self, result: dict[str, object], keep: int, owner: PartsOwner) -> bool:
        """Keep nothing."""
        return False


def main() -> None:
    parser = workload.parser("worker catch-up with forecasts off and on", days=7)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--niced-only", dest="idle_class", action="store_false", help="no SCHED_IDLE"
    )
    args, stations = workload.begin(parser, tune_gc=True)
    events = workload.generated(stations, args.days, SEED)
    now = DEFAULT_START + timedelta(days=min(args.days, 7) - 1, hours=7)
    twin = replay(events, stations, SEED, until=now)
    twin.advance_to(now)
    job = LiveForecastJob(encode(twin.snapshot()), stations, now)
    print(
        f"bench_worker_forecast: {len(events)} events ({args.days} days), {args.rounds} rounds, "
        f"forecast process {'SCHED_IDLE and niced' if args.idle_class else 'niced only'}; "
        f"load average {os.getloadavg()[0]:.1f} at the start"
    )
    rates: dict[str, list[float]] = {mode: [] for mode in MODES}
    forecasts: list[int] = []
    with EmbeddedBroker() as broker, tempfile.TemporaryDirectory() as scratch:
        for round_ in range(args.rounds):
            for mode in MODES:
                tag = f"r{round_}{MODES.index(mode)}{os.getpid()}"
                settings = KafkaSettings(
                    bootstrap_servers=broker.bootstrap_servers,
                    group_id=f"g{tag}",
                    **workload.own_topics(f"t{tag}"),
                )
                publish(events, settings)
                store = SqlStore.open(f"sqlite:///{Path(scratch) / f'{tag}.db'}")
                try:
                    rate, done = catch_up(
                        settings, store, stations, len(events), mode, job, args.idle_class
                    )
                finally:
                    store.close()
                rates[mode].append(rate)
                forecasts.append(done)
                print(f"  round {round_ + 1} {mode:<16} {rate:>9,.0f} events/s")
    off = statistics.median(rates["off"])
    for mode in MODES:
        median = statistics.median(rates[mode])
        print(f"{mode:<16} median {median:>9,.0f} events/s, ratio to off {median / off:.2f}")
    print(
        f"background forecasts completed during the 'on, forecasting' runs: {sum(forecasts)}; "
        f"load average {os.getloadavg()[0]:.1f} at the end"
    )


def catch_up(
    settings: KafkaSettings,
    store: SqlStore,
    stations: Mapping[str, StationSpec],
    total: int,
    mode: str,
    job: LiveForecastJob,
    idle_class: bool,
) -> tuple[float, int]:
    """Events/s of one catch-up, and how many background forecasts finished meanwhile."""
    every = 0 if mode == "off" else 15
    worker = connect_worker(
        settings, store, stations, SEED, forecasts=ForecastSettings(every_min=every)
    )
    background = ForecastSchedule(ForecastSettings(idle_class=idle_class), Discard(), stations)
    stop = threading.Event()
    finished = [0]

    def forecast_non_stop() -> None:
        while not stop.is_set():
            background._start(_Waiting(job, None))  # the schedule's own process, back to back
            while background.running and not stop.is_set():
                background.collect(timeout=0.2)
        finished[0] = background.stored

    helper = threading.Thread(target=forecast_non_stop, daemon=True)
    try:
        worker.start()
        if mode == "on, forecasting":
            helper.start()
            settled(background)  # the process started and its first forecast under way
        began = time.perf_counter()
        while worker.stats.consumed < total:
            worker.step()
        elapsed = time.perf_counter() - began
    finally:
        stop.set()
        if helper.is_alive():
            helper.join()
        background.close()
        worker.close()
    return total / elapsed, finished[0]


def settled(schedule: ForecastSchedule, seconds: float = 120.0) -> None:
    """Wait until the forecast process runs the forecast at its own priority: its start (the
    interpreter and imports, at the worker's priority) is not what is measured."""
    deadline = time.monotonic() + seconds
    wanted = os.nice(0) + schedule.settings.nice
    while time.monotonic() < deadline:
        running = schedule._running
        pid = running.process.pid if running is not None else None
        try:
            if pid is not None and os.getpriority(os.PRIO_PROCESS, pid) >= min(19, wanted):
                time.sleep(0.5)  # the scheduling class follows the nice value at once
                return
        except ProcessLookupError:
            pass
        time.sleep(0.05)
    raise RuntimeError("the forecast process did not start in time")


if __name__ == "__main__":
    main()

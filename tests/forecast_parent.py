"""A stand-in for the forecasting worker, for `tests/test_forecast_process_exit.py`: a process that
starts a long forecast (`streams.forecast_schedule`) from a live twin, prints the forecast process's
pid and the directory of its job's files (a line each), and then waits to be killed, or to be
stopped (SIGTERM: it closes the schedule, as `ForecastingWorker.close` does, and exits).

Run as `python -m tests.forecast_parent`; `--wait` runs the forecast to its end instead and
prints its seconds (how long a forecast the test cuts short would run).
"""

import signal
import sys
import threading
import time
from collections.abc import Sequence

from corridor.forecast.run import MAX_HOURS
from corridor.scenario import DEFAULT_START
from corridor.traffic.generator import generate
from streams.forecast_schedule import ForecastSchedule, ForecastSettings
from tests.broker_fixtures import stations
from tests.test_forecast_schedule import NOON, SEED, Kept, live_at, move

# Long: the whole horizon, many replications, forked two at a time (as the worker's default);
# niced only (in SCHED_IDLE it might not run at all on a busy machine).
LONG = {
    "hours": MAX_HOURS,
    "replications": 64,
    "workers": 2,
    "min_wall_s": 0.0,
    "idle_class": False,
}


def started() -> ForecastSchedule:
    """A schedule with its long forecast under way."""
    yards = stations()
    events = list(generate(yards, days=1, seed=SEED, start=DEFAULT_START))
    schedule = ForecastSchedule(ForecastSettings(**LONG), Kept(), yards)
    live = live_at(yards, events, NOON)
    schedule.consider(live, caught_up=True)
    assert move(schedule, live, events, NOON.replace(minute=15)) is not None
    assert schedule.consider(live, caught_up=True)
    return schedule


def main(argv: Sequence[str]) -> int:
    """Start the forecast; print its process's pid; wait for SIGTERM (or the forecast's end)."""
    began = time.monotonic()
    schedule = started()
    running = schedule._running
    assert running is not None
    print(running.process.pid, schedule._files, sep="\n", flush=True)
    if "--wait" in argv:
        assert schedule.collect(timeout=3600)
        print(f"{time.monotonic() - began:.1f}", flush=True)
        return 0
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    schedule.close()  # as the worker's close: the forecast under way is cancelled
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

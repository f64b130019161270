"""Benchmark: the worker's engine phase against the engine alone: CPU, wall and garbage collection.

`bench_worker.py` finds the catching-up worker's `engine` phase (wall time, mostly
`LiveTwin.advance`) about 1.25 times the engine alone's time an event, while
`bench_live_instructions.py` finds the live twin's instructions, `admit` included, only about
11 % over the engine's. This says where the rest goes. The worker runs in this process
(`inprocess_worker.py`, SQLite store, its commit thread beside it) with `LiveTwin.advance`
timed from inside: its main thread's CPU time (what the live twin computes), its wall time
(the CPU plus waits for the GIL held by the commit thread, and for the machine), and the
cyclic garbage collector's time within it (`gc.callbacks`). The engine alone
(`corridor.engine.twin.replay`) is timed the same way, in CPU, wall and GC, and so is
`LiveTwin.advance` in a live twin fed alike without the worker around it (events decoded from
their bytes, admitted and advanced batch by batch); they alternate `--rounds` times on the same
events; medians, µs an event.

    .venv/bin/python benchmarks/bench_engine_phase.py [--events 100000] [--rounds 3] \
        [--memory-store]
"""

import gc
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import workload  # type: ignore[import-not-found]
from inprocess_worker import inprocess_worker  # type: ignore[import-not-found]

from api.store.sql_store import SqlStore
from corridor.contract.events import DecodeError, Event, decode_event, encode_event
from corridor.engine.twin import replay
from streams.live.memory_store import MemoryStore
from streams.live.reefer_alerts import ReeferAlerts
from streams.live.twin import LiveTwin
from streams.settings import KafkaSettings

SEED = 2026
Times = dict[str, float]  # seconds: PARTS, and the worker's engine phase
PARTS = ("cpu", "wall", "gc")


class GcClock:
    """Wall seconds the cyclic collector ran, while `on`."""

    def __init__(self) -> None:
        self.on, self.seconds, self._began = False, 0.0, 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        elif self.on:
            self.seconds += time.perf_counter() - self._began


def timed(run: Callable[[], object], clock: GcClock, times: Times) -> None:
    """Run with its main-thread CPU, wall and garbage collection added to `times`."""
    cpu, wall, collected = time.thread_time(), time.perf_counter(), clock.seconds
    clock.on = True
    try:
        run()
    finally:
        clock.on = False
        times["cpu"] += time.thread_time() - cpu
        times["wall"] += time.perf_counter() - wall
        times["gc"] += clock.seconds - collected


def engine_alone(events: list[Event], stations: Any, clock: GcClock) -> Times:
    times = dict.fromkeys(PARTS, 0.0)
    timed(lambda: replay(events, stations, SEED), clock, times)
    return times


def live_alone(events: list[Event], stations: Any, clock: GcClock) -> Times:
    """`LiveTwin.advance`'s times in a live twin fed as the worker feeds it (each event decoded
    from its bytes and admitted, batch by batch, the watermark moved to the newest less the
    lateness), without the worker around it: what the live twin itself costs."""
    times = dict.fromkeys(PARTS, 0.0)
    settings = KafkaSettings(bootstrap_servers="in-process:0", group_id="bench")
    lateness = settings.lateness // timedelta(microseconds=1)
    live = LiveTwin(stations, SEED, alerts=ReeferAlerts.of(settings))
    raws = [encode_event(event) for event in events]
    for start in range(0, len(raws), settings.batch_size):
        for raw in raws[start : start + settings.batch_size]:
            event = decode_event(raw)
            assert not isinstance(event, DecodeError)
            live.admit(event, raw)
        assert live.newest is not None
        moment = live.newest - lateness
        timed(lambda: live.advance(moment), clock, times)  # noqa: B023 (called at once)
        assert live.twin is not None
        live.twin.drain()
    return times


def worker_engine(events: list[Event], stations: Any, clock: GcClock, sql: bool) -> Times:
    """`LiveTwin.advance`'s times in a catching-up worker, and its `engine` phase (wall);
    its store SQLite (`sql`), else in memory (`streams.live.memory_store`: nearly nothing
    for the commit thread to do)."""
    times = dict.fromkeys(PARTS, 0.0)
    advance = LiveTwin.advance

    def timed_advance(live: LiveTwin, moment: int) -> Any:
        result: list[Any] = []
        timed(lambda: result.append(advance(live, moment)), clock, times)
        return result[0]

    settings = KafkaSettings(bootstrap_servers="in-process:0", group_id="bench", quiet_after_s=0.5)
    LiveTwin.advance = timed_advance  # type: ignore[method-assign]
    try:
        with tempfile.TemporaryDirectory(prefix="bench-engine-phase-") as scratch:
            url = f"sqlite:///{Path(scratch) / 'twin.db'}"
            store = SqlStore.open(url) if sql else MemoryStore()
            worker, feed = inprocess_worker(settings, store, stations, SEED)
            worker.start()
            feed.feed(iter(events))
            while not (worker.stats.consumed >= len(events) and worker.idle_for() > 0):
                worker.step()
            times["phase"] = worker.stats.seconds["engine"]
            worker.close()
    finally:
        LiveTwin.advance = advance  # type: ignore[method-assign]
    return times


def main() -> None:
    parser = workload.parser(__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--memory-store", action="store_true", help="also the in-memory store")
    args, stations = workload.begin(parser, tune_gc=True)
    events = list(workload.backlog(stations, args.events, SEED))
    clock = GcClock()
    engines: list[Times] = []
    workers: list[Times] = []
    in_memory: list[Times] = []
    alone: list[Times] = []
    for _ in range(args.rounds):
        engines.append(engine_alone(events, stations, clock))
        alone.append(live_alone(events, stations, clock))
        workers.append(worker_engine(events, stations, clock, sql=True))
        if args.memory_store:
            in_memory.append(worker_engine(events, stations, clock, sql=False))
    count = len(events)

    def us(runs: list[Times], key: str) -> float:
        return statistics.median(run[key] for run in runs) / count * 1e6

    print(f"{count:,} events, {args.rounds} rounds alternated, µs an event (medians)")
    print(f"{'':<40}{'CPU':>8}{'wall':>8}{'GC':>8}")
    rows = [
        ("engine alone (replay)", engines),
        ("live twin alone: LiveTwin.advance", alone),
        ("worker (SQLite): LiveTwin.advance", workers),
    ]
    if in_memory:
        rows.append(("worker (in memory): LiveTwin.advance", in_memory))
    for name, runs in rows:
        print(f"{name:<40}" + "".join(f"{us(runs, part):>8.2f}" for part in PARTS))
    for name, runs in rows[1:]:
        ratios = [us(runs, part) / us(engines, part) for part in ("cpu", "wall")]
        label = f"  {name.split(':')[0]}: / engine alone"
        print(f"{label:<40}" + "".join(f"{ratio:>8.3f}" for ratio in ratios))
        if "phase" in runs[0]:
            label = f"  {name.split(':')[0]}: the engine phase, wall"
            print(f"{label:<40}{'':>8}{us(runs, 'phase'):>8.2f}")
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

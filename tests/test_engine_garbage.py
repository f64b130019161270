"""The engine's hot path makes no reference cycles: what it drops, reference counting frees.

`corridor.runtime` collects the older GC generations almost never on that promise; an actor,
event or record that closed a cycle would leave every finished truck to the cyclic collector
(it once cost a fifth of a year's engine time).

Only the engine's own objects are counted: in the whole suite an earlier module's threads (a
test client's event loop, a broker client's callbacks) may still drop cyclic garbage of their
own while this replay runs with the collector off, which says nothing about the engine (CI once
found 70 such objects here, where the replay alone leaves none).
"""

import gc
import threading
from collections import Counter
from collections.abc import Generator
from types import FrameType, GeneratorType
from typing import Any

import simpy

from corridor.engine.twin import replay
from corridor.scenario import DEFAULT_START
from corridor.traffic.generator import generate
from stations.spec import load_all_stations

ENGINE_PACKAGES = ("corridor", "stations", "simpy")


def _engine_owned(thing: Any) -> bool:
    if isinstance(thing, GeneratorType):
        module = thing.gi_frame.f_globals.get("__name__", "") if thing.gi_frame else ""
    elif isinstance(thing, FrameType):
        module = thing.f_globals.get("__name__", "")
    else:
        module = type(thing).__module__
    return str(module).split(".")[0] in ENGINE_PACKAGES


def _cyclic_garbage_of(run: Any) -> tuple[Any, list[Any]]:
    """What `run()` returns, and every object it left in cycles (found with the collector off)."""
    # an earlier test's yard, dropped with actors still waiting inside a `with` block, can
    # take two passes: closing those generators hands a server on, which schedules an event
    # and so resurrects the rest of that yard for one pass; count only this run's cycles
    while gc.collect():
        pass
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        result = run()
        gc.collect()
        garbage = list(gc.garbage)
    finally:
        gc.garbage.clear()
        gc.set_debug(0)
        gc.enable()
    return result, garbage


def test_a_replay_leaves_nothing_for_the_cyclic_collector() -> None:
    stations = load_all_stations()
    events = list(generate(stations, days=2, seed=3, start=DEFAULT_START))
    twin, garbage = _cyclic_garbage_of(lambda: replay(events, stations, seed=3))
    engine_garbage = [thing for thing in garbage if _engine_owned(thing)]
    trucks = len(twin.tables()["truck_visits"])
    assert trucks > 1000  # enough actors that one cycle each would show
    assert len(engine_garbage) < 50, (
        f"{len(engine_garbage)} engine objects in cycles after {trucks} trucks: "
        f"{Counter(type(thing).__name__ for thing in engine_garbage).most_common(8)}; "
        f"threads alive: {[thread.name for thread in threading.enumerate()]}"
    )


def test_the_count_sees_cycles_in_engine_objects() -> None:
    """A yard dropped with its actors still waiting is a cycle of simpy objects: it is counted."""

    def a_yard_dropped_mid_run() -> None:
        env = simpy.Environment()

        def actor(env: simpy.Environment) -> Generator[simpy.Event, None, None]:
            yield env.timeout(10)

        for _ in range(100):
            env.process(actor(env))
        env.run(until=5)

    _, garbage = _cyclic_garbage_of(a_yard_dropped_mid_run)
    assert len([thing for thing in garbage if _engine_owned(thing)]) >= 200

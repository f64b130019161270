"""The engine's hot path makes no reference cycles: what it drops, reference counting frees.

`corridor.runtime` collects the older GC generations almost never on that promise; an actor,
event or record that closed a cycle would leave every finished truck to the cyclic collector
(it once cost a fifth of a year's engine time).
"""

import gc

from corridor.engine.twin import replay
from corridor.scenario import DEFAULT_START
from corridor.traffic.generator import generate
from stations.spec import load_all_stations


def test_a_replay_leaves_nothing_for_the_cyclic_collector() -> None:
    stations = load_all_stations()
    events = list(generate(stations, days=2, seed=3, start=DEFAULT_START))
    # an earlier test's yard, dropped with actors still waiting inside a `with` block, can
    # take two passes: closing those generators hands a server on, which schedules an event
    # and so resurrects the rest of that yard for one pass; count only this replay's cycles
    while gc.collect():
        pass
    gc.disable()
    try:
        twin = replay(events, stations, seed=3)
        left_in_cycles = gc.collect()
    finally:
        gc.enable()
    trucks = len(twin.tables()["truck_visits"])
    assert trucks > 1000  # enough actors that one cycle each would show
    assert left_in_cycles < 50, f"{left_in_cycles} objects in cycles after {trucks} trucks"

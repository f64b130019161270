"""The traffic a forecast expects after now: what is known, plus generated arrivals for the rest.

What is known is already in the start state: a dispatched truck waits in the twin for its ETA,
an announced train for its cut-off. The rest is drawn from the yards' traffic profile
(`corridor.traffic`, the hourly profile and daily volumes of each station file) with the
forecast's own streams for replication r: the generator runs over `TRAFFIC_LEAD` before now
and the horizon after it, and only events stamped from now on are kept (before now, the real
ones happened). Of those:

- export dispatches and train arrivals are kept as drawn (new boxes);
- an import pickup collects a box the generated world holds but the real yard does not, so it
  is given a real one instead: the oldest import box of its kind (reefer or dry: reefers are
  collected sooner) in the yard that no truck was dispatched for yet (the oldest is the most
  overdue), keeping the box's own type; with none of its kind left, the pickup is dropped;
- gate milestones and reefer readings (observations of boxes the yard does not hold) are left
  out, and so are departures announced again under a known train id.

Generated traffic uses replication `FORECAST_TRAFFIC + r` of a seed derived from the twin's seed
and now (`traffic_seed`), so a backtest against a log generated with the twin's seed never sees
the traffic that actually came, and forecasts from different moments draw independently.
"""

import math
from collections.abc import Iterable
from datetime import datetime, timedelta

import msgspec
import numpy as np

from corridor.contract.container_ids import is_reefer
from corridor.contract.events import Event, TrainArrived, TrainScheduled, TruckDispatched
from corridor.engine.twin import Twin
from corridor.traffic.generator import generate

TRAFFIC_LEAD = timedelta(days=8)
"""Generated history before now: long enough for import trains that arrived before now to bring
the boxes collected in the horizon (pickups come 72 ± 36 h after unloading)."""
FORECAST_TRAFFIC = 1_000_000
"""Generated traffic for forecast replication r is the generator's replication this + r."""


def future_events(
    twin: Twin,
    *,
    seed: int,
    now: datetime,
    until: datetime,
    replication: int,
    claimed_pickups: frozenset[str],
) -> list[Event]:
    """Generated events stamped in [now, until), fitted to the twin's yards (module doc)."""
    start = (now - TRAFFIC_LEAD).replace(minute=0, second=0, microsecond=0)
    days = math.ceil((until - start) / timedelta(days=1))
    generated = generate(
        twin.stations,
        days=days,
        seed=traffic_seed(seed, now),
        start=start,
        replication=FORECAST_TRAFFIC + replication,
    )
    pickups = {sid: _pickable(twin, sid, claimed_pickups) for sid in twin.yards}
    return list(_fitted(generated, twin, pickups, now, until))


def traffic_seed(seed: int, now: datetime) -> int:
    """The generator's seed for a forecast from `now`: the generator draws by day and local
    hour from its start, so with one seed every forecast starting at the same hour of day would
    get the same futures; keyed by the instant too, forecasts from different moments draw
    independently (and a baseline and its what-if, from the same moment, alike)."""
    moment = int(now.timestamp())
    state = np.random.SeedSequence([seed, moment]).generate_state(2, dtype=np.uint64)
    return int(state[0]) >> 1  # below 2**63, as the generator wants


def _pickable(twin: Twin, yard: str, claimed: frozenset[str]) -> dict[bool, list[str]]:
    """The yard's import boxes no truck is coming for yet, reefers apart, newest first (to be
    popped oldest first)."""
    boxes = [
        box
        for box in twin.yards[yard].boxes.values()
        if box.direction == "import" and box.container_id not in claimed
    ]
    boxes.sort(key=lambda box: (box.entered, box.container_id), reverse=True)
    return {
        reefer: [box.container_id for box in boxes if box.reefer == reefer]
        for reefer in (False, True)
    }


def _fitted(
    events: Iterable[Event],
    twin: Twin,
    pickups: dict[str, dict[bool, list[str]]],
    now: datetime,
    until: datetime,
) -> Iterable[Event]:
    for event in events:
        if event.ts < now:
            continue
        if event.ts >= until:
            return
        if isinstance(event, TruckDispatched):
            if event.direction == "export":
                yield event
                continue
            waiting = pickups[event.yard][is_reefer(event.iso_type)]
            if waiting:
                yield msgspec.structs.replace(event, container_id=waiting.pop())
        elif isinstance(event, TrainArrived) or (
            isinstance(event, TrainScheduled)
            and event.train_id not in twin.yards[event.yard].railway.known
        ):
            yield event

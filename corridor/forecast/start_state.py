"""Where a forecast or a what-if starts: the twin as it is now, forked once per replication.

A forecast runs R replications of the next hours from the *current* state of each yard, so
each replication needs its own copy of the yard at "now" whose future draws come from its own
random streams. SimPy processes are generators and cannot be copied, so the copy is made by
deterministic re-execution (`ReplayStart`): the history up to now is replayed with the base
streams (replication 0, the streams the live twin drew from), which lands on the same state
every time, and then every yard is re-seeded for replication r (`stations.yard.Yard.reseed`).

`StartState` is the seam: anything with `now`, `claimed_pickups` and `fork(replication)` will
do. `SnapshotStart` is the other one: the yards saved once as data (`corridor.engine.snapshots`)
and restored for each replication (`Twin.fork`), which replays nothing per replication.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from corridor.contract.events import Event, TrainScheduled, TruckDispatched
from corridor.engine.snapshots import TwinSnapshot
from corridor.engine.twin import Twin, replay
from stations.spec import StationSpec

DEFAULT_LOOKBACK = timedelta(days=7)
"""How much history a replayed start keeps: a box dwells up to about five days (import pickups
are 72 ± 36 h after unloading), so seven days hold nearly every box still in a yard."""


ANNOUNCED_AHEAD = timedelta(days=2)
"""How far ahead of its departure a train may have been announced: a caller that reads its
history from a store reads this much more before the lookback (`replay_start` keeps, of that,
only the departures leaving within the lookback)."""


class StartState(Protocol):
    """The twin at `now`, to be forked once per replication."""

    @property
    def now(self) -> datetime:
        """The moment the forecast starts from (aware)."""
        ...

    @property
    def claimed_pickups(self) -> frozenset[str]:
        """Import boxes a truck has already been dispatched to collect."""
        ...

    def fork(self, replication: int, stations: Mapping[str, StationSpec] | None = None) -> Twin:
        """A twin at `now` whose future draws use replication `replication`'s streams, its
        yards running under `stations` from now on when given (a what-if's scenario)."""
        ...


@dataclass(frozen=True, slots=True)
class ReplayStart:
    """A start state rebuilt by replaying `history` (events stamped before `now`)."""

    history: Sequence[Event]
    stations: Mapping[str, StationSpec]
    seed: int
    now: datetime
    claimed_pickups: frozenset[str] = field(default=frozenset())

    def fork(self, replication: int, stations: Mapping[str, StationSpec] | None = None) -> Twin:
        """Replay the history with the base streams, then re-seed for `replication`."""
        twin = replay(self.history, self.stations, self.seed, until=self.now)
        twin.advance_to(self.now)
        for yard in twin.yards.values():
            yard.reseed(self.seed, replication)
        if stations is not None:
            switch_specs(twin, stations)
        return twin


@dataclass(frozen=True, slots=True)
class SnapshotStart:
    """A start state saved as data (`corridor.engine.snapshots`, `docs/snapshots.md`): each fork
    restores the saved yards with replication r's streams (`Twin.fork`), under `stations` (a
    what-if's specs: the loader takes their counts), instead of replaying history."""

    snapshot: TwinSnapshot
    stations: Mapping[str, StationSpec]
    now: datetime
    claimed_pickups: frozenset[str] = field(default=frozenset())

    def fork(self, replication: int, stations: Mapping[str, StationSpec] | None = None) -> Twin:
        """The saved yards, drawing replication `replication`'s streams from now on."""
        return Twin.fork(
            self.snapshot, stations if stations is not None else self.stations, replication
        )


def snapshot_start(start: ReplayStart) -> SnapshotStart:
    """Replay a start's history once and keep the yards at now as a snapshot to fork from."""
    twin = replay(start.history, start.stations, start.seed, until=start.now)
    twin.advance_to(start.now)
    return SnapshotStart(twin.snapshot(), start.stations, start.now, start.claimed_pickups)


def replay_start(
    events: Sequence[Event],
    stations: Mapping[str, StationSpec],
    seed: int,
    now: datetime,
    lookback: timedelta = DEFAULT_LOOKBACK,
) -> ReplayStart:
    """The start at `now` from a log or archive: its events in [now - lookback, now), and the
    departures announced before that but leaving after its start (a box in the window may be
    booked on one: without its announcement it would wait for it for ever)."""
    if now.tzinfo is None:
        raise ValueError(f"now: expected an aware datetime, got {now.isoformat()}")
    since = now - lookback
    history = [event for event in events if since <= event.ts < now or _leaves_after(event, since)]
    claimed = frozenset(
        event.container_id
        for event in history
        if isinstance(event, TruckDispatched) and event.direction == "import"
    )
    return ReplayStart(history, stations, seed, now, claimed)


def _leaves_after(event: Event, since: datetime) -> bool:
    return isinstance(event, TrainScheduled) and event.ts < since <= event.departure


def switch_specs(twin: Twin, stations: Mapping[str, StationSpec]) -> None:
    """Run the twin's yards under other specs from now on (the what-if's scenario).

    Resources with a count (gate lanes, reach stackers, RMGs, inspection bays, loading tracks)
    take their new capacity at once; process times and policies are read from the spec at each
    draw, so they change from the next draw on.
    """
    for sid, yard in twin.yards.items():
        spec = stations.get(sid)
        if spec is None or spec is yard.spec:
            continue
        yard.resize(spec)
    twin.stations = {
        **twin.stations,
        **{sid: stations[sid] for sid in twin.yards if sid in stations},
    }

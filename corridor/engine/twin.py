"""The twin engine: events, applied in event-time order, drive one SimPy clock per yard.

Before an event with time t is applied to its yard, that yard's environment runs to t; nothing
reads the wall clock. Each yard has its own environment and its own random streams (derived
from one seed), so yards are independent: the interleaving of their events in a log never
changes a yard's results. A live worker calls `apply` and `advance_to` (its watermark); a
planner's replay calls `replay`, which orders a log per yard first.
"""

import operator
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from corridor.contract.events import DecodeError, Event, event_type, same_instant_rank
from corridor.engine import retention, yard_events
from corridor.engine.clock import epoch_for, to_datetime, to_minutes
from corridor.engine.live_view import (
    LISTED_FROM_H,
    BoxNow,
    ReeferStatus,
    YardState,
    boxes_now,
    reefer_statuses,
    yard_state,
)
from corridor.engine.snapshots import CountsState, TwinSnapshot
from corridor.engine.yard_order import InYardOrder
from stations.box import Box
from stations.clock import YardEnvironment
from stations.records import NOT_YET, RECORD_TYPES, BoxVisit, ReeferExcursion
from stations.snapshot import SnapshotError, snapshot_yard
from stations.snapshot_restore import restore_yard
from stations.spec import StationSpec
from stations.yard import Yard

Progress = Callable[[int], None]


@dataclass(slots=True)
class EventCounts:
    """What happened to the events offered to the twin, by type and by rejection reason."""

    rejected: Counter[str] = field(default_factory=Counter)
    late: int = 0
    per_yard: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    @property
    def applied(self) -> Counter[str]:
        """Applied events by type, all yards together."""
        return sum(self.per_yard.values(), Counter())

    def as_dict(self) -> dict[str, Any]:
        """Plain, sorted dicts for a report."""
        return {
            "applied": dict(sorted(self.applied.items())),
            "rejected": dict(sorted(self.rejected.items())),
            "late": self.late,
            "per_yard": {
                yard: dict(sorted(counts.items())) for yard, counts in sorted(self.per_yard.items())
            },
        }


class Twin:
    """The corridor's yards, each on its own clock, fed by v1 events."""

    def __init__(
        self,
        stations: Mapping[str, StationSpec],
        seed: int,
        epoch: datetime | None = None,
        *,
        refuse_repeats: bool = True,
        replication: int = 0,
    ) -> None:
        """`refuse_repeats=False` is for a caller that refuses repeated `event_id`s itself (the
        live twin does, before archiving): the ids are then not kept a second time here.
        `replication` picks the yards' random streams (`stations.random_streams`); 0 is a
        single run's."""
        if seed < 0:
            raise ValueError(f"seed must be non-negative, got {seed}")
        self.stations = dict(stations)
        self.seed = seed
        self.replication = replication
        self.epoch = epoch
        self.counts = EventCounts()
        self.yards: dict[str, Yard] = {
            sid: Yard(YardEnvironment(), spec, seed, replication)
            for sid, spec in self.stations.items()
        }
        self._seen: set[str] | None = set() if refuse_repeats else None
        self._drained: dict[str, dict[str, int]] = {
            sid: dict.fromkeys(RECORD_TYPES, 0) for sid in self.yards
        }

    def apply(self, event: Event) -> DecodeError | None:
        """Apply one event at its time; returns why it was rejected, or None."""
        yard = self.yards.get(event.yard)
        if yard is None:
            return self._reject(event, DecodeError("yard", f"yard {event.yard!r} is not modelled"))
        seen = self._seen
        if seen is not None and event.event_id in seen:
            return self._reject(event, DecodeError("event_id", "duplicate event_id, ignored"))
        epoch = self.epoch
        if epoch is None:
            epoch = self.epoch = epoch_for(event.ts)
        now = to_minutes(event.ts, epoch)
        env = yard.env
        if now < env.now:
            self.counts.late += 1
            now = env.now
        else:
            env.run_before(now)
        problem = yard_events.apply_to_yard(yard, event, now, epoch)
        if problem is not None:
            return self._reject(event, problem)
        if seen is not None:
            seen.add(event.event_id)
        self.counts.per_yard[event.yard][event_type(event)] += 1
        return None

    def advance_to(self, moment: datetime) -> None:
        """Run every yard clock to `moment` (a watermark), so queues drain while feeds are quiet."""
        if self.epoch is None:
            self.epoch = epoch_for(moment)
        until = to_minutes(moment, self.epoch)
        for yard in self.yards.values():
            yard.env.run_before(until)

    def snapshot(self) -> TwinSnapshot:
        """The twin's whole state as data (`corridor.engine.snapshots`, `docs/snapshots.md`).

        Take it at an instant boundary: after `advance_to(t)`, before any event at t is applied
        (the worker's watermarks are such instants). Inside an instant, a yard with an event
        still due at its clock that is not a timer (a train process about to start, a server
        handed over) is refused with a `SnapshotError`."""
        counts = self.counts
        return TwinSnapshot(
            seed=self.seed,
            replication=self.replication,
            epoch=self.epoch,
            yards={
                sid: snapshot_yard(yard, self.seed, self.replication)
                for sid, yard in self.yards.items()
            },
            counts=CountsState(
                dict(counts.rejected),
                counts.late,
                {yard: dict(per_type) for yard, per_type in counts.per_yard.items()},
            ),
            seen=None if self._seen is None else sorted(self._seen),
            drained={sid: dict(marks) for sid, marks in self._drained.items()},
        )

    @classmethod
    def restore(
        cls,
        snapshot: TwinSnapshot,
        stations: Mapping[str, StationSpec],
        *,
        replication: int | None = None,
        spec_may_differ: bool = False,
    ) -> "Twin":
        """A twin in the snapshot's state: fed the events after it, it gives the records of
        one never stopped. `stations` must hold every yard of the snapshot, under the same
        specs unless `spec_may_differ`; `replication` None continues the random streams
        exactly (see `fork` for a number)."""
        missing = sorted(set(snapshot.yards) - set(stations))
        if missing:
            raise SnapshotError(f"the snapshot holds yards not given: {', '.join(missing)}")
        twin = cls(
            stations,
            snapshot.seed,
            snapshot.epoch,
            refuse_repeats=snapshot.seen is not None,
            replication=snapshot.replication if replication is None else replication,
        )
        for sid, state in snapshot.yards.items():
            twin.yards[sid] = restore_yard(
                state, twin.stations[sid], replication=replication, spec_may_differ=spec_may_differ
            )
        twin.counts.rejected.update(snapshot.counts.rejected)
        twin.counts.late = snapshot.counts.late
        for sid, per_type in snapshot.counts.per_yard.items():
            twin.counts.per_yard[sid].update(per_type)
        if snapshot.seen is not None:
            twin._seen = set(snapshot.seen)
        for sid, marks in snapshot.drained.items():
            if sid in twin._drained:
                twin._drained[sid].update(marks)
        return twin

    @classmethod
    def fork(
        cls, snapshot: TwinSnapshot, stations: Mapping[str, StationSpec], replication: int
    ) -> "Twin":
        """Replication `replication` of the future from a snapshot: the yards as they were,
        with the random streams of that replication drawn afresh
        (`RandomStream(seed, yard, purpose, replication=r)`), under `stations` (the snapshot's
        specs, or a what-if's). Forecasts and what-ifs start many forks from one live state;
        `restore` (no fork) is the one that continues the snapshotted run exactly."""
        if replication < 0:
            raise ValueError(f"replication must be non-negative, got {replication}")
        return cls.restore(snapshot, stations, replication=replication, spec_may_differ=True)

    def advance_yard(self, yard: str, moment: datetime) -> None:
        """Run one yard's clock to `moment` (not back): a look at it between two events."""
        if self.epoch is None:
            raise ValueError("the twin has no epoch yet: no event applied")
        env = self.yards[yard].env
        until = to_minutes(moment, self.epoch)
        if until > env.now:
            env.run_before(until)

    def clock(self, yard: str) -> datetime:
        """The yard's current model time."""
        if self.epoch is None:
            raise ValueError("the twin has no epoch yet: no event applied")
        return to_datetime(self.yards[yard].now, self.epoch)

    def tables(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every record so far, plus what is still open (boxes in the yard, open excursions)."""
        tables: dict[str, list[tuple[Any, ...]]] = {name: [] for name in RECORD_TYPES}
        for yard in self.yards.values():
            for name in RECORD_TYPES:
                if name != "levels":
                    tables[name].extend(getattr(yard.records, name))
            tables["box_visits"].extend(_open_boxes(yard))
            tables["reefer_excursions"].extend(_open_excursions(yard))
            tables["observations"].extend(yard.unpaired_observations())
        return tables

    def drain(self) -> dict[str, list[tuple[Any, ...]]]:
        """Closed records emitted since the last drain (for a live store)."""
        drained: dict[str, list[tuple[Any, ...]]] = {name: [] for name in RECORD_TYPES}
        for sid, yard in self.yards.items():
            marks = self._drained[sid]
            for name in RECORD_TYPES:
                if name == "levels":
                    continue
                records = getattr(yard.records, name)
                drained[name].extend(records[marks[name] :])
                marks[name] = len(records)
        return drained

    def forget_before(self, moment: datetime) -> int:
        """Forget drained records and finished visits' leftovers before `moment` (live twins).

        Nothing a KPI window starting at or after `moment` reads changes
        (`corridor.engine.retention`); returns the number of records dropped.
        """
        if self.epoch is None:
            return 0
        before = to_minutes(moment, self.epoch)
        dropped = 0
        for sid, yard in self.yards.items():
            dropped += retention.forget_records(yard, self._drained[sid], before)
            yard.forget_before(before)
        return dropped

    def open_boxes(self) -> list[BoxVisit]:
        """Boxes still in the yards, with `left` NaN."""
        return [box for yard in self.yards.values() for box in _open_boxes(yard)]

    def open_excursions(self, yard: str) -> list[ReeferExcursion]:
        """Excursions still open in one yard, with `end` NaN."""
        return _open_excursions(self.yards[yard])

    def state(self, yard: str) -> YardState:
        """The live view of one yard."""
        return yard_state(self.yards[yard], self._epoch_or_now())

    def reefers(self, yard: str) -> list[ReeferStatus]:
        """Each reefer in the yard with its latest reading and status."""
        return reefer_statuses(self.yards[yard], self._epoch_or_now())

    def boxes_now(self, yard: str, min_age_h: float = LISTED_FROM_H) -> list[BoxNow]:
        """The yard's boxes at least `min_age_h` old, oldest first, each with its stage."""
        return boxes_now(self.yards[yard], self._epoch_or_now(), min_age_h)

    def _epoch_or_now(self) -> datetime:
        if self.epoch is None:
            raise ValueError("the twin has no epoch yet: no event applied")
        return self.epoch

    def _reject(self, event: Event, problem: DecodeError) -> DecodeError:
        self.counts.rejected[problem.reason] += 1
        return problem


def replay(
    events: Iterable[Event],
    stations: Mapping[str, StationSpec],
    seed: int,
    *,
    epoch: datetime | None = None,
    until: datetime | None = None,
    progress: Progress | None = None,
    replication: int = 0,
) -> Twin:
    """Apply a recorded log: each yard's events in event-time order.

    Ordering per yard (not globally) is what makes a log's yard interleaving irrelevant. Events
    of one yard at the same instant go trains, then trucks, then readings (as the live worker
    orders them), and otherwise keep their order in the log (the sort is stable). A sequence is
    sorted whole, yard by yard; any other iterable is streamed (`corridor.engine.yard_order`:
    the same order, holding only a day of events, or `OutOfOrderError` for a log that is not
    in time order within that day).
    """
    if not isinstance(events, Sequence):
        return _replay_stream(events, stations, seed, epoch, until, progress, replication)
    per_yard: dict[str, list[Event]] = defaultdict(list)
    first: datetime | None = None
    for event in events:
        per_yard[event.yard].append(event)
        if first is None or event.ts < first:
            first = event.ts
    twin = Twin(
        stations,
        seed,
        epoch if epoch is not None else (epoch_for(first) if first else None),
        replication=replication,
    )
    done = 0
    for yard in [*twin.yards, *sorted(set(per_yard) - set(twin.yards))]:
        queue = per_yard.get(yard, [])
        # by (ts, rank), stable, in two stable passes: the second key is C-level, no tuple each
        queue.sort(key=same_instant_rank)
        queue.sort(key=_EVENT_TIME)
        for event in queue:
            twin.apply(event)
            done += 1
            if progress is not None and done % 65536 == 0:
                progress(done)
    if until is not None:
        twin.advance_to(until)
    elif first is not None:
        twin.advance_to(max(event.ts for queue in per_yard.values() for event in queue[-1:]))
    if progress is not None:
        progress(done)
    return twin


def _replay_stream(
    events: Iterable[Event],
    stations: Mapping[str, StationSpec],
    seed: int,
    epoch: datetime | None,
    until: datetime | None,
    progress: Progress | None,
    replication: int,
) -> Twin:
    """`replay` of a log streamed in each yard's order (`InYardOrder`)."""
    ordered = InYardOrder(events)
    twin = Twin(stations, seed, epoch, replication=replication)
    done = 0
    for event in ordered:
        if twin.epoch is None and ordered.first is not None:
            twin.epoch = epoch_for(ordered.first)
        twin.apply(event)
        done += 1
        if progress is not None and done % 65536 == 0:
            progress(done)
    if until is not None:
        twin.advance_to(until)
    elif ordered.newest is not None:
        twin.advance_to(ordered.newest)
    if progress is not None:
        progress(done)
    return twin


_EVENT_TIME = operator.attrgetter("ts")


def _open_boxes(yard: Yard) -> list[BoxVisit]:
    return [
        box.visit(yard.spec.id, NOT_YET, _plug_wait_so_far(yard, box))
        for box in yard.boxes.values()
    ]


def _plug_wait_so_far(yard: Yard, box: Box) -> float:
    waiting = box.plug_request is not None and not box.plug_request.triggered
    return yard.now - box.stacked if waiting else box.plug_wait_min


def _open_excursions(yard: Yard) -> list[ReeferExcursion]:
    return [
        excursion
        for box in yard.boxes.values()
        if box.reefer_monitor is not None
        for excursion in box.reefer_monitor.open_excursions()
    ]

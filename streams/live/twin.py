"""The live twin: accepted events wait in a reorder buffer and reach the engine in event time.

This is the deterministic heart of the worker, free of Kafka: it is driven by exactly two
inputs, which are also the two kinds of archive entry,

- `admit(event)`: an accepted event joins its yard's reorder buffer (a repeated `event_id` is
  refused, so nothing is counted twice);
- `advance(moment)`: the watermark moved to `moment`: every buffered event at or before it is
  applied to the engine (`corridor.engine.twin.Twin`), yard by yard in event-time order, then every
  yard clock runs to `moment`, so queues drain while the feeds are quiet. On the way, the
  reefer alerts are decided at their boundaries of event time (`streams.live.reefer_alerts`),
  so a rebuild decides them again alike.

Feeding the archive back through the same two calls (`rebuild`) recreates the twin, its buffer
and its watermark exactly as they were when the archive was written. The engine's own policy
for an event behind its yard's clock applies: it is applied at the yard's current time and
counted as late (`Twin.counts.late`); an event the engine refuses, or whose application
raises, comes back as a `Rejection` and the others are applied.
The twin is created at the first release, its epoch the hour of the earliest released event,
as `corridor.engine.twin.replay` chooses it for a log.

Memory stays bounded however long the twin runs (`RETENTION`, `docs/streams.md`, "Memory"):
once a day of event time, as the watermark passes midnight (UTC), the twin forgets
what is older than the watermark minus `RETENTION`: records already drained to the store, level
history, finished visits' leftovers (`Twin.forget_before`), and accepted `event_id`s. An id is
remembered by the later of its event time and the watermark when it was admitted, so a repeat
is refused for at least `RETENTION` of event time after its first arrival, however late that
arrival was. An event whose time is already behind the window (`is_stale`) may repeat one the
twin forgot: the worker asks the store's archive before admitting it
(`corridor.store_contract.TwinStore.archived`).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple, Protocol

import msgspec

from corridor.contract.events import DecodeError, Event, decode_event
from corridor.engine.clock import epoch_for
from corridor.engine.twin import Twin
from corridor.kpis.recent_frames import RecentRecords
from corridor.store_contract import ArchivedEvent, ArchiveEntry
from stations.snapshot import SnapshotError
from stations.spec import StationSpec
from streams.dead_letters import RawHeaders
from streams.live.reefer_alerts import ReeferAlert, ReeferAlerts
from streams.live.reorder import Micros, ReorderBuffer, from_micros, to_micros
from streams.live.state import AlertsState, HeldState, LiveSnapshot


class Origin(NamedTuple):
    """Where a message came from: enough to dead-letter it with its original key and headers."""

    topic: str
    partition: int
    offset: int
    key: bytes | None = None
    headers: RawHeaders | None = None


class Source(Protocol):
    """A consumed message, held as it is: its origin is read only if it is dead-lettered.

    (A confluent-kafka `Message` is one; building an `Origin` for every message cost the
    worker about half a microsecond each, for the few the engine refuses.)
    """

    def topic(self) -> str | None: ...
    def partition(self) -> int | None: ...
    def offset(self) -> int | None: ...
    def key(self) -> bytes | None: ...
    def headers(
        self,
    ) -> dict[str, str | bytes | None] | list[tuple[str, str | bytes | None]] | None: ...


class Held(msgspec.Struct, frozen=True, gc=False):
    """An accepted event waiting for the watermark (one is made per message).

    A msgspec struct: made in C from its three arguments (a quarter of a named tuple's cost
    through `tuple.__new__`), and untracked by the cycle collector, as nothing it holds can
    refer back to it (an event, its bytes, its message or origin)."""

    event: Event
    raw: bytes
    origin: Origin | Source | None


class Rejection(NamedTuple):
    """A released event the engine refused, or whose application raised (dead-lettered)."""

    held: Held
    error: DecodeError | Exception


ARCHIVE_SOURCE = "(archive)"
"""Origin topic of a rebuilt event whose store did not keep where it came from."""


def _archived_origin(entry: ArchivedEvent, index: int) -> Origin:
    """Where an archived event came from; else its place in the archive (still unique)."""
    if entry.topic:
        return Origin(entry.topic, entry.partition, entry.offset)
    return Origin(ARCHIVE_SOURCE, -1, index)


RETENTION = timedelta(days=8)
"""How far behind the watermark the live twin remembers: the longest KPI window
(`streams.live.snapshots.WINDOWS`, 7 days) and a day of margin for late events."""

_DAY: Micros = 86_400_000_000  # days of event time count from 1970-01-01 00:00 UTC


class CorruptArchiveError(ValueError):
    """An archived event no longer decodes: the archive was changed behind the worker's back."""


@dataclass(slots=True)
class LiveTwin:
    """A `Twin` behind a per-yard reorder buffer, advanced by an external watermark."""

    stations: Mapping[str, StationSpec]
    seed: int
    twin: Twin | None = None
    watermark: Micros | None = None
    newest: Micros | None = None
    buffer: ReorderBuffer[Held] = field(default_factory=ReorderBuffer)
    accepted: set[str] = field(default_factory=set)
    retention: Micros = RETENTION // timedelta(microseconds=1)
    ids_by_day: dict[int, list[str]] = field(default_factory=dict)  # accepted ids to forget
    forgotten_before: Micros | None = None  # the horizon of the last `forget`
    reordered: int = 0  # events admitted behind the newest time already seen
    recent: RecentRecords | None = None  # the KPI snapshots' view of the twin's recent records
    alerts: ReeferAlerts | None = None  # decided at every advance when given

    def admit(
        self,
        event: Event,
        raw: bytes,
        origin: Origin | Source | None = None,
        ts: Micros | None = None,
    ) -> Micros | None:
        """Hold an accepted event; returns its time, or None if its `event_id` was seen before
        (within the window: see `is_stale`). `ts` is `to_micros(event.ts)` when the caller
        has it already (about 2 µs a conversion, three a message before)."""
        event_id, accepted = event.event_id, self.accepted
        if event_id in accepted:
            return None
        if ts is None:
            ts = to_micros(event.ts)
        watermark = self.watermark
        accepted.add(event_id)
        day = (ts if watermark is None or ts > watermark else watermark) // _DAY
        try:  # the day's list is there for all but its first id (one lookup, not two)
            self.ids_by_day[day].append(event_id)
        except KeyError:
            self.ids_by_day[day] = [event_id]
        self.buffer.push(event.yard, ts, Held(event, raw, origin), event.rank)  # its tie rank
        newest = self.newest
        if newest is None or ts > newest:
            self.newest = ts
        elif ts < newest:
            self.reordered += 1
        return ts

    def advance(self, moment: Micros) -> list[Rejection]:
        """Apply everything held up to `moment` and run the clocks there (no-op unless later)."""
        if self.watermark is not None and moment <= self.watermark:
            return []
        self.watermark = moment
        released = self.buffer.release(moment)
        twin = self.twin
        if twin is None:
            if not released:
                return []
            first = min(held.event.ts for held in released)
            twin = self.twin = Twin(
                self.stations, self.seed, epoch_for(first), refuse_repeats=False
            )
        rejections = []
        apply, alerts = twin.apply, self.alerts
        # an event after its yard's next alert boundary decides the boundaries before it first
        # (`ReeferAlerts.reach`); most are before it, which one comparison of datetimes tells
        upcoming = alerts.upcoming if alerts is not None else {}
        for held in released:
            event = held.event
            if alerts is not None:
                following = upcoming.get(event.yard)
                if following is None or event.ts > following:
                    ts = event.ts
                    alerts.reach(twin, event.yard, to_micros(ts), inclusive=False, zone=ts.tzinfo)
            try:
                problem: DecodeError | Exception | None = apply(event)
            except Exception as error:  # one event's failure is its own, not the worker's
                problem = error  # the same on a rebuild: the engine is deterministic
            if problem is not None:
                rejections.append(Rejection(held, problem))
        if alerts is not None:
            for yard in twin.yards:
                alerts.reach(twin, yard, moment, inclusive=True)
        twin.advance_to(from_micros(moment))
        self._forget_daily(moment)
        return rejections

    def take_alerts(self) -> list[ReeferAlert]:
        """The reefer alerts decided since the last call (none without `alerts`)."""
        return self.alerts.take() if self.alerts is not None else []

    def is_stale(self, event: Event) -> bool:
        """Is the event further behind the watermark than the window, so that a repeat of it
        may have been forgotten? (The store's archive can tell: `TwinStore.archived`.)"""
        return self.is_behind_window(to_micros(event.ts))

    def is_behind_window(self, ts: Micros) -> bool:
        """`is_stale` for an event time already converted."""
        watermark = self.watermark
        return watermark is not None and ts < watermark - self.retention

    def forget(self, horizon: Micros) -> None:
        """Forget what is older than `horizon`: accepted ids by day, drained records and
        finished visits' leftovers (`Twin.forget_before`)."""
        self.forgotten_before = horizon
        ids_by_day, accepted = self.ids_by_day, self.accepted
        for day in [day for day in ids_by_day if (day + 1) * _DAY <= horizon]:
            accepted.difference_update(ids_by_day.pop(day))
        if self.twin is not None:
            self.twin.forget_before(from_micros(horizon))

    def _forget_daily(self, moment: Micros) -> None:
        """`forget` once a day of event time, as the watermark passes midnight."""
        horizon = moment - self.retention
        last = self.forgotten_before
        if last is None or horizon // _DAY > last // _DAY:
            self.forget(horizon)

    def rebuild(self, entries: Iterable[ArchiveEntry]) -> int:
        """Replay an archive through `admit` and `advance`; returns the number of entries."""
        count = 0
        for entry in entries:
            count += 1
            if isinstance(entry, ArchivedEvent):
                event = decode_event(entry.raw)
                if isinstance(event, DecodeError):
                    raise CorruptArchiveError(f"archived event {entry.event_id!r}: {event}")
                self.admit(event, entry.raw, _archived_origin(entry, count - 1))
            else:
                self.advance(to_micros(entry.moment))
                if self.twin is not None:  # the archive's records are in the store already,
                    self.twin.drain()  # so a long archive's can be forgotten as it goes
        self.take_alerts()  # sent when these entries were first applied: decided again here
        return count

    def recent_records(self) -> RecentRecords | None:
        """The twin's recent records, kept between snapshots (None before the twin exists)."""
        if self.twin is None:
            return None
        if self.recent is None or self.recent.twin is not self.twin:
            self.recent = RecentRecords(self.twin)
        return self.recent

    def snapshot(self) -> LiveSnapshot:
        """The live twin's whole state as data (`streams.live.state`), between two calls.

        The engine's part is taken at the watermark (`Twin.snapshot`); an event released at
        exactly the watermark that left something due then (a train's process about to
        start) makes it refuse (`SnapshotError`): try again at the next watermark."""
        held = []
        for yard, ts, rank, arrival, item in self.buffer.held():
            held.append(HeldState(yard, ts, rank, arrival, item.raw, *_plain_origin(item.origin)))
        return LiveSnapshot(
            seed=self.seed,
            twin=None if self.twin is None else self.twin.snapshot(),
            watermark=self.watermark,
            newest=self.newest,
            reordered=self.reordered,
            ids_by_day=list(self.ids_by_day.items()),
            forgotten_before=self.forgotten_before,
            retention=self.retention,
            buffer_yards=self.buffer.yards(),
            arrivals=self.buffer.arrivals,
            held=held,
            alerts=_alerts_state(self.alerts),
        )

    @classmethod
    def restored(
        cls,
        snapshot: LiveSnapshot,
        stations: Mapping[str, StationSpec],
        alerts: ReeferAlerts | None = None,
    ) -> "LiveTwin":
        """A live twin in the snapshot's state (its yards' specs must be the snapshot's);
        `alerts` go on from the snapshot's alert memory (`_load_alerts`)."""
        held = []
        for state in snapshot.held:
            event = decode_event(state.raw)
            if isinstance(event, DecodeError):
                raise SnapshotError(f"a held event no longer decodes: {event}")
            origin = None
            if state.topic is not None:
                origin = Origin(
                    state.topic, state.partition, state.offset, state.key, state.headers
                )
            item = Held(event, state.raw, origin)
            held.append((state.yard, state.ts, state.rank, state.arrival, item))
        return cls(
            stations,
            snapshot.seed,
            twin=None if snapshot.twin is None else Twin.restore(snapshot.twin, stations),
            watermark=snapshot.watermark,
            newest=snapshot.newest,
            buffer=ReorderBuffer.restored(snapshot.buffer_yards, held, snapshot.arrivals),
            accepted=snapshot.accepted_ids(),
            retention=snapshot.retention,
            ids_by_day=dict(snapshot.ids_by_day),
            forgotten_before=snapshot.forgotten_before,
            reordered=snapshot.reordered,
            alerts=_load_alerts(alerts, snapshot.alerts),
        )

    @property
    def epoch(self) -> datetime | None:
        """The twin's epoch, once it exists."""
        return self.twin.epoch if self.twin is not None else None


def _plain_origin(
    origin: Origin | Source | None,
) -> tuple[str | None, int, int, bytes | None, list[tuple[str, bytes | None]] | None]:
    """(topic, partition, offset, key, headers) of an origin; a consumed message's read now."""
    if origin is None:
        return None, -1, -1, None, None
    if isinstance(origin, Origin):
        where = Origin(*origin)
    else:
        partition, offset = origin.partition(), origin.offset()
        found = origin.headers()
        headers = list(found.items()) if isinstance(found, dict) else found
        where = Origin(
            origin.topic() or "",
            -1 if partition is None else partition,
            -1 if offset is None else offset,
            origin.key(),
            headers,
        )
    topic, partition, offset, key, plain = where
    if plain is None:
        return topic, partition, offset, key, None
    as_bytes = [
        (name, value.encode() if isinstance(value, str) else value) for name, value in plain
    ]
    return topic, partition, offset, key, as_bytes


def _alerts_state(alerts: ReeferAlerts | None) -> AlertsState | None:
    """The reefer alerts' memory as data (None: no alerts)."""
    if alerts is None:
        return None
    decided, under = alerts.memory()
    ids = [(yard, sorted(under[yard])) for yard in sorted(under)]
    return AlertsState(alerts.bound_min, alerts.every, sorted(decided.items()), ids)


def _load_alerts(alerts: ReeferAlerts | None, state: AlertsState | None) -> ReeferAlerts | None:
    """`alerts` with the snapshot's memory; under another bound or grid step they start afresh
    (each yard's grid set at its next event: nothing it remembers applies)."""
    same = (
        alerts is not None
        and state is not None
        and (state.bound_min, state.every)
        == (
            alerts.bound_min,
            alerts.every,
        )
    )
    if same and alerts is not None and state is not None:
        alerts.remember(dict(state.decided), {yard: set(ids) for yard, ids in state.under})
    return alerts

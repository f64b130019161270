"""A group member's twin of its partitions: the members' yard snapshots and the archive tails.

Group members store twin snapshots of the partitions they own (`MemberScope`: the partitions,
and which of them each yard came from) on the single worker's schedule, on a hand-over and on
a clean stop (`streams.twin_restart.TwinSnapshots`). A yard's feeds share one partition index
(`streams.rebalance`), so a yard is the unit a snapshot can be cut into: a member that is given
partitions takes, newest snapshot first, every yard whose partitions it was given from the
newest snapshot covering them, and builds one live twin of those yards (`merge`). Then, per
snapshot used, it admits the archived events of the partitions taken from it that were
archived after it (its `position`), and of any partition no snapshot covers, the whole archive
of that partition (as `streams.rebalance.load_from_archive` does for everything).

What the pieces hold apart is kept apart: each yard keeps its own clock, records drained and
alert memory; the merged watermark is the earliest of the pieces' (a yard ahead of it is not
run back: `YardEnvironment.run_before` never moves a clock back), and `Loaded.loaded_at` says
per yard up to when its outputs were stored by its previous owner, so the new owner does not
write them again from a yard already past them (`streams.rebalance.keep_owned`). Accepted
event ids are the union (an id names one event, which only its yard's partition carries).

Yard times count from the twin's epoch (the hour of its first event), so pieces of two epochs
cannot share one twin: those of the earliest are used, and the partitions of the others are
replayed from their whole archive (their events are all after that epoch). A snapshot that
does not decode or was taken with another seed is passed over for an older one; if the merged
twin fails to restore, the member replays its partitions' whole archive. A snapshot is a cache
of the archive, never the only copy.
"""

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from corridor.engine.snapshots import CountsState, TwinSnapshot
from corridor.store_contract import (
    ArchivedEvent,
    MemberScope,
    PartitionFence,
    StoredTwinSnapshot,
    TwinSnapshotStore,
    TwinStore,
)
from stations.spec import StationSpec
from streams.live import state
from streams.live.reefer_alerts import AlertSettings, ReeferAlerts
from streams.live.reorder import from_micros
from streams.live.state import AlertsState, LiveSnapshot
from streams.live.twin import LiveTwin
from streams.live.watermark import Partition

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Piece:
    """A stored member snapshot, decoded, and the yards and partitions taken from it."""

    stored: StoredTwinSnapshot
    snapshot: LiveSnapshot
    yards: frozenset[str]
    partitions: frozenset[Partition]


@dataclass(frozen=True, slots=True)
class Loaded:
    """A twin of some partitions: the live twin, the archive entries admitted on top, the
    snapshots used, each yard's partitions, and per yard the time up to which its outputs
    were stored by the snapshot's writer (nothing to write again up to then)."""

    live: LiveTwin
    entries: int
    snapshot_ids: tuple[int, ...] = ()
    yards: Mapping[str, frozenset[Partition]] = field(default_factory=dict)
    loaded_at: Mapping[str, datetime] = field(default_factory=dict)


def load_partitions(
    store: TwinStore,
    stations: Mapping[str, StationSpec],
    seed: int,
    settings: AlertSettings | None = None,
) -> Callable[[frozenset[Partition]], Loaded]:
    """A loader of the twin of given partitions, from the members' snapshots if any, deciding
    reefer alerts under `settings` (their memory taken from the snapshots: none repeated)."""

    def alerts() -> ReeferAlerts | None:
        return None if settings is None else ReeferAlerts.of(settings)

    def load(partitions: frozenset[Partition]) -> Loaded:
        began = time.perf_counter()
        pieces = choose(store, partitions, seed)
        loaded = None
        if pieces:
            try:
                loaded = from_pieces(store, pieces, partitions, stations, seed, alerts())
            except Exception as error:  # any failure: the archive still has everything
                log.warning("member snapshots not used (%s: %.300s)", type(error).__name__, error)
                loaded = None
        if loaded is None:
            live = LiveTwin(stations, seed, alerts=alerts())
            entries = live.rebuild(events_of(store.load_archive(), partitions))
            loaded = Loaded(live, entries)
        took = time.perf_counter() - began
        log.info(
            "loaded %d partitions from snapshots %s and %d archived events in %.1f s",
            len(partitions),
            list(loaded.snapshot_ids) or "none",
            loaded.entries,
            took,
        )
        return loaded

    return load


def choose(store: TwinStore, partitions: frozenset[Partition], seed: int) -> list[Piece]:
    """Newest first, the snapshots to take yards from, each with the yards it gives."""
    uncovered = set(partitions)
    pieces: list[Piece] = []
    listed = store.member_snapshots(partitions) if isinstance(store, PartitionFence) else []
    for stored in listed:
        scope = stored.scope
        if scope is None or not (scope.partitions & uncovered):
            continue
        yards = _yards_taken(scope, uncovered, partitions)
        if yards is None:
            continue
        snapshot = _decoded(store, stored, seed)
        if snapshot is None:
            continue
        taken = frozenset(scope.partitions & uncovered)
        pieces.append(Piece(stored, snapshot, yards, taken))
        uncovered -= taken
        if not uncovered:
            break
    return pieces


def _yards_taken(
    scope: MemberScope, uncovered: set[Partition], partitions: frozenset[Partition]
) -> frozenset[str] | None:
    """The yards of `scope` on uncovered partitions; None if one of them is split between
    partitions given and not given (its feeds would be on two members)."""
    yards = set()
    for yard, where in scope.yards.items():
        if where & uncovered:
            if not where <= partitions:
                return None
            yards.add(yard)
    return frozenset(yards)


def _decoded(store: TwinStore, stored: StoredTwinSnapshot, seed: int) -> LiveSnapshot | None:
    if not isinstance(store, TwinSnapshotStore):
        return None
    data = store.twin_snapshot_data(stored.id)
    try:
        if data is None:
            raise ValueError("pruned since it was listed")
        snapshot = state.decode(data)
        if snapshot.seed != seed:
            raise ValueError(f"taken with seed {snapshot.seed}, this worker runs seed {seed}")
        return snapshot
    except Exception as error:
        log.warning(
            "member snapshot %d not used (%s: %.300s); trying an older one or the archive",
            stored.id,
            type(error).__name__,
            error,
        )
        return None


def from_pieces(
    store: TwinStore,
    pieces: list[Piece],
    partitions: frozenset[Partition],
    stations: Mapping[str, StationSpec],
    seed: int,
    alerts: ReeferAlerts | None,
) -> Loaded:
    """The merged twin of the pieces plus their archive tails; the partitions of pieces of a
    later epoch than the earliest, and of none, replayed from their whole archive."""
    pieces = of_earliest_epoch(pieces)
    live = LiveTwin.restored(merge(pieces, seed), stations, alerts)
    entries = 0
    for piece in pieces:
        tail = store.load_archive(after=piece.stored.position)  # type: ignore[call-arg]
        entries += live.rebuild(events_of(tail, piece.partitions))
    covered = frozenset().union(*(piece.partitions for piece in pieces))
    if partitions - covered:
        entries += live.rebuild(events_of(store.load_archive(), partitions - covered))
    yards: dict[str, frozenset[Partition]] = {}
    loaded_at: dict[str, datetime] = {}
    for piece in pieces:
        scope = piece.stored.scope
        assert scope is not None
        for yard in piece.yards:
            yards[yard] = scope.yards[yard]
            if piece.snapshot.watermark is not None:
                loaded_at[yard] = from_micros(piece.snapshot.watermark)
    ids = tuple(piece.stored.id for piece in pieces)
    return Loaded(live, entries, ids, yards, loaded_at)


def of_earliest_epoch(pieces: list[Piece]) -> list[Piece]:
    """The pieces whose twin has the earliest epoch (or none yet). Yard times count from the
    epoch, so yards of two epochs cannot share a twin; a yard of a later epoch has no event
    before the earliest, so it can be rebuilt from its archive in a twin of that epoch."""
    epochs = [p.snapshot.twin.epoch for p in pieces if p.snapshot.twin is not None]
    known = [epoch for epoch in epochs if epoch is not None]
    if not known:
        return pieces
    first = min(known)
    kept = [p for p in pieces if p.snapshot.twin is None or p.snapshot.twin.epoch in (None, first)]
    if len(kept) < len(pieces):
        log.info("member snapshots of a later epoch than %s: their yards rebuilt", first)
    return kept


def events_of(
    entries: Iterable[object], partitions: frozenset[Partition]
) -> Iterator[ArchivedEvent]:
    """The archived events that came from `partitions`, in archive order."""
    for entry in entries:
        if isinstance(entry, ArchivedEvent) and (entry.topic, entry.partition) in partitions:
            yield entry


def merge(pieces: list[Piece], seed: int) -> LiveSnapshot:
    """One live snapshot holding each piece's yards (see the module docstring); the pieces'
    twins are of one epoch (`of_earliest_epoch`)."""
    twins = [piece for piece in pieces if piece.snapshot.twin is not None]
    twin = None
    if twins:
        yards, per_yard, drained = {}, {}, {}
        late = 0
        for piece in twins:
            part = piece.snapshot.twin
            assert part is not None
            late += part.counts.late
            for yard in piece.yards:
                if yard in part.yards:
                    yards[yard] = part.yards[yard]
                per_yard[yard] = part.counts.per_yard.get(yard, {})
                if yard in part.drained:
                    drained[yard] = part.drained[yard]
        parts = [p.snapshot.twin for p in twins if p.snapshot.twin is not None]
        first = next((part for part in parts if part.epoch is not None), parts[0])
        twin = TwinSnapshot(
            seed=seed,
            replication=first.replication,
            epoch=first.epoch,
            yards=yards,
            counts=CountsState({}, late, per_yard),
            seen=None,
            drained=drained,
        )
    snapshots = [piece.snapshot for piece in pieces]
    watermarks = [s.watermark for s in snapshots if s.watermark is not None]
    newest = [s.newest for s in snapshots if s.newest is not None]
    forgotten = [s.forgotten_before for s in snapshots if s.forgotten_before is not None]
    ids_by_day: dict[int, list[str]] = {}
    for snapshot in snapshots:
        for day, ids in snapshot.ids_by_day:
            ids_by_day.setdefault(day, []).extend(ids)
    held = [h for piece in pieces for h in piece.snapshot.held if h.yard in piece.yards]
    buffer_yards = list(dict.fromkeys(h.yard for h in held))
    return LiveSnapshot(
        seed=seed,
        twin=twin,
        watermark=min(watermarks) if watermarks else None,
        newest=max(newest) if newest else None,
        reordered=0,
        ids_by_day=sorted(ids_by_day.items()),
        forgotten_before=min(forgotten) if forgotten else None,
        retention=snapshots[0].retention,
        buffer_yards=buffer_yards,
        arrivals=max(s.arrivals for s in snapshots),
        held=held,
        alerts=_alerts(pieces),
    )


def _alerts(pieces: list[Piece]) -> AlertsState | None:
    """The pieces' alert memory of their yards (None unless all were taken alike)."""
    states = [piece.snapshot.alerts for piece in pieces]
    if any(s is None for s in states):
        return None
    kinds = {(s.bound_min, s.every) for s in states if s is not None}
    if len(kinds) != 1:
        return None
    decided, under = [], []
    for piece in pieces:
        alerts = piece.snapshot.alerts
        assert alerts is not None
        decided += [(yard, at) for yard, at in alerts.decided if yard in piece.yards]
        under += [(yard, ids) for yard, ids in alerts.under if yard in piece.yards]
    bound_min, every = kinds.pop()
    return AlertsState(bound_min, every, sorted(decided), sorted(under))

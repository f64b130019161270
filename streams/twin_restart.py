"""Restart in seconds: the worker stores its live twin's snapshot now and then, and a restart
loads the newest one and replays only the archive after it.

`TwinSnapshots.attach` puts the live twin's snapshot (`LiveTwin.snapshot`, encoded by
`streams.live.state`) on a commit's batch when one is due: every `twin_snapshot_every` of event
time, or when `twin_snapshot_wall_s` of wall time went by since the last one and the watermark
moved (while catching up, at most a tenth of the worker's time: `CATCHUP_SHARE`), and on a
clean shutdown (`final`). The store writes it in the batch's transaction,
after the batch's archive segment (`api.store.twin_snapshots`), so a snapshot always covers
exactly the archive up to its position, and offsets, outputs and snapshot never disagree. The
batch is the state after all of its archive entries: the worker attaches it last, after the
watermark moved. A snapshot the engine refuses (`SnapshotError`: work due at the watermark that
is not a timer) is tried again at the next batch. A consumer group's member stores the twin
of its partitions the same way, with their scope, and on a hand-over too (`streams.group_load`).

`load` is the other half: the newest stored snapshot that restores, then the archive after it.
A snapshot that does not decode, is of another version or another seed, or fails to restore is
logged and the next older one tried, and without any the archive is replayed whole: a
snapshot is a cache of the archive, never the only copy, so a bad one costs time, not state.
"""

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from corridor.store_contract import (
    MemberScope,
    TwinBatch,
    TwinSnapshotOut,
    TwinSnapshotStore,
    TwinStore,
)
from stations.spec import StationSpec
from streams.live import state
from streams.live.reefer_alerts import ReeferAlerts
from streams.live.reorder import Micros, from_micros, to_micros
from streams.live.twin import LiveTwin
from streams.settings import KafkaSettings

log = logging.getLogger(__name__)
_MICROS_PER_S = 1_000_000
CATCHUP_SHARE = 0.1
"""While catching up, a snapshot is due only after `cost / CATCHUP_SHARE` of wall time since
the last: a batch of a backlog spans days of event time, so the event-time period alone asked
for one every batch, and a snapshot costs the whole live twin (its buffer and accepted ids
too), which a lagging topic makes large. A crash then replays at most about ten snapshots'
cost of archive; live, event time and wall time agree and the period alone decides.

The trade, measured (`benchmarks/bench_catchup_share.py`, 150,000 events, 5 rounds alternated,
load 8-10: `docs/performance.md`, branch `catchup`): at 0.05 instead of 0.1 a catch-up stored
6 snapshots instead of 9 and caught up 2.8 % faster in the medians (11,938 against 11,612
events/s; faster in 4 rounds of 5, by -17 to +11 %), inside the rounds' spread, while a
crash at a random moment left a tail of 11,208 archive entries on average instead of 10,222
(about 0.5 s of replay either way). Neither side moves clearly: the share stays 0.1. The cost
it weighs is the main thread's (taking and encoding the snapshot); storing it is the commit
thread's, in the background, and not counted."""


@dataclass(frozen=True, slots=True)
class Loaded:
    """A live twin loaded for a restart: from which snapshot (None: the whole archive), and
    how many archive entries were replayed on top."""

    live: LiveTwin
    snapshot_id: int | None
    entries: int
    seconds: float


def load(
    store: TwinStore,
    stations: Mapping[str, StationSpec],
    seed: int,
    *,
    alerts: ReeferAlerts | None = None,
    snapshots: bool = True,
) -> Loaded:
    """The live twin as the store left it: the newest usable snapshot plus the archive after it
    (`snapshots=False`: the whole archive, as benchmarks compare), deciding `alerts` (the
    snapshot's alert memory restored into them, so none is repeated).

    Its records were committed before the restart, so they are drained (not sent again)."""
    began = time.perf_counter()
    live, snapshot_id, archive = None, None, None
    if snapshots and isinstance(store, TwinSnapshotStore):
        for stored in store.twin_snapshots():
            live = restore(store, stored.id, stations, seed, alerts)
            if live is not None:
                snapshot_id, archive = stored.id, store.load_archive(after=stored.position)
                break
    if live is None:
        live = LiveTwin(stations, seed, alerts=alerts)
    entries = live.rebuild(store.load_archive() if archive is None else archive)
    if live.twin is not None:
        live.twin.drain()  # committed before the restart
    took = time.perf_counter() - began
    if snapshot_id is None:
        log.info("rebuilt the twin from %d archive entries in %.1f s", entries, took)
    else:
        log.info(
            "restored the twin from snapshot %d and %d archive entries after it in %.1f s",
            snapshot_id,
            entries,
            took,
        )
    return Loaded(live, snapshot_id, entries, took)


def restore(
    store: TwinSnapshotStore,
    snapshot_id: int,
    stations: Mapping[str, StationSpec],
    seed: int,
    alerts: ReeferAlerts | None = None,
) -> LiveTwin | None:
    """The live twin of one stored snapshot, or None (logged) if it cannot be used."""
    data = store.twin_snapshot_data(snapshot_id)
    if data is None:
        return None
    try:
        snapshot = state.decode(data)
        if snapshot.seed != seed:
            raise ValueError(f"taken with seed {snapshot.seed}, this worker runs seed {seed}")
        return LiveTwin.restored(snapshot, stations, alerts)
    except Exception as error:  # any failure: the archive still has everything
        log.warning(
            "twin snapshot %d not used (%s: %.300s); trying an older one or the archive",
            snapshot_id,
            type(error).__name__,
            error,
        )
        return None


class Member(Protocol):
    """A consumer group's member (`streams.rebalance.Rebalance`), as its snapshots see it."""

    owned: frozenset[tuple[str, int]]
    claim: str | None

    def scope(self) -> MemberScope:
        """What a snapshot taken now covers."""
        ...


class TwinSnapshots:
    """When the worker puts its live twin's snapshot on a batch (see the module docstring)."""

    def __init__(self, settings: KafkaSettings) -> None:
        self.every: Micros = int(settings.twin_snapshot_every.total_seconds() * _MICROS_PER_S)
        self.member: Member | None = None  # a group member's: its snapshots' scope, its claim
        self.wall_s = settings.twin_snapshot_wall_s
        self.keep = settings.twin_snapshots_kept
        self.last_at: Micros | None = None  # the watermark of the last snapshot stored
        self.last_wall = time.monotonic()
        self.taken = 0
        self.refused = 0
        self.cost = 0.0  # wall seconds the last snapshot took
        self.last_lag: int | None = None  # the last commit's, repeated by the final one
        self.last_ahead: dict[str, float] = {}

    def start(self, live: LiveTwin) -> None:
        """A loaded twin: the next snapshot is due a period after its watermark."""
        self.last_at, self.last_wall = live.watermark, time.monotonic()

    def due(self, live: LiveTwin, *, catching_up: bool = False) -> bool:
        """Is a snapshot due at the twin's watermark? (Catching up, at most a tenth of the
        worker's time: see `CATCHUP_SHARE`.)"""
        watermark = live.watermark
        if self.every <= 0 or live.twin is None or watermark is None:
            return False
        if catching_up and time.monotonic() - self.last_wall < self.cost / CATCHUP_SHARE:
            return False
        if self.last_at is None:
            # the first one a period in: after the first watermark for a single worker; after
            # the twin's epoch for a group member, whose first step may cross hours at once
            epoch = live.twin.epoch
            if self.member is None or epoch is None:
                self.last_at = watermark - watermark % self.every
                return False
            self.last_at = to_micros(epoch)
        if watermark <= self.last_at:
            return False
        if watermark - self.last_at >= self.every:
            return True
        return time.monotonic() - self.last_wall >= self.wall_s

    def final(self, live: LiveTwin, store: TwinStore, group: str) -> None:
        """On a clean stop: the twin's snapshot in a commit of its own (if the watermark moved
        since the last), repeating the last commit's lag and yards ahead for `/ready`."""
        last = TwinBatch(group, offsets={}, lag=self.last_lag, yards_ahead=self.last_ahead)
        last.fence = None if self.member is None else self.member.claim
        if self.attach(live, last, final=True):
            store.commit(last)

    def attach(
        self, live: LiveTwin, batch: TwinBatch, *, final: bool = False, catching_up: bool = False
    ) -> bool:
        """Put the twin's snapshot on `batch` if due (`final`: if the watermark moved)."""
        self.last_lag, self.last_ahead = batch.lag, dict(batch.yards_ahead)
        if final:
            moved = live.twin is not None and live.watermark is not None
            if self.every <= 0 or not moved or live.watermark == self.last_at:
                return False
        elif not self.due(live, catching_up=catching_up):
            return False
        if self.member is not None and not self.member.owned:
            return False  # between a revoke and an assignment: nothing of its own
        began = time.monotonic()
        try:
            data = state.encode(live.snapshot())
        except Exception as error:  # SnapshotError at a busy instant: try at the next batch
            self.refused += 1
            log.debug("no twin snapshot at this watermark: %s", error)
            return False
        assert live.watermark is not None
        scope = None if self.member is None else self.member.scope()
        at = from_micros(live.watermark)
        batch.twin_snapshot = TwinSnapshotOut(at, data, self.keep, scope)
        self.last_at, self.last_wall = live.watermark, time.monotonic()
        self.cost = self.last_wall - began
        self.taken += 1
        return True

"""Sharing the yards: a worker in a consumer group takes partitions, and hands them over.

With `membership = "group"` every `corridor worker` of one `group_id` subscribes to the input
topics and the broker's group protocol shares their partitions out. Yards are message keys, so
a yard's events on each topic sit on one partition, and on the same partition index on every
topic (one partitioner, one partition count): the *range* assignor gives each member the same
indexes of every topic (it co-partitions), so one worker holds all of a yard's feeds. The
cooperative-sticky assignor moves fewer partitions, but assigns each topic's partitions
independently, which would split a yard's dispatch, reefer and train feeds over two workers;
range is eager, so every rebalance revokes everything and assigns afresh, which the worker
answers by handing over and loading again (`docs/streams.md`, "Consumer group").

The store stays the source of truth for offsets (the group's committed offsets are never
used): on an assignment the worker loads the twin of exactly those partitions
(`PartitionLoader`: today `load_from_archive` replays their archived events; a yard snapshot
can replace it behind the same call) and the consumer starts at the stored offsets; on a
revocation it waits for its last commit and drops the twin; a partition lost to a session
timeout is dropped the same way (another worker may own it already). Messages already fetched
for the old assignment may still come out of the consume call that ran the rebalance:
`fresh` drops those the worker does not own any more or has read already.
"""

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, cast

from confluent_kafka import TopicPartition

from corridor.store_contract import (
    ArchivedEvent,
    MemberScope,
    PartitionFence,
    TwinBatch,
    TwinStore,
)
from stations.records import RECORD_TYPES
from stations.spec import StationSpec
from streams.group_load import Loaded, events_of
from streams.live.snapshots import CORRIDOR
from streams.live.twin import LiveTwin
from streams.live.watermark import Partition
from streams.ports import ConsumerPort, InputMessage
from streams.settings import KafkaSettings
from streams.twin_restart import TwinSnapshots

log = logging.getLogger(__name__)
_NEVER = datetime.min.replace(tzinfo=UTC)
ASSIGNOR = "range"
"""librdkafka's `partition.assignment.strategy` for a group: it co-partitions (see above)."""


PartitionLoader = Callable[[frozenset[Partition]], Loaded]
"""Builds the live twin of the given input partitions (`streams.group_load.load_partitions`)."""


def load_from_archive(
    store: TwinStore, stations: Mapping[str, StationSpec], seed: int
) -> PartitionLoader:
    """A loader that admits the archived events of the partitions, in archive order, and
    uses no snapshot (`group_load.load_partitions` does, on a store that keeps them).

    Clock advances are left out: they were archived by whichever worker owned the partitions
    then, against its own watermark, and another worker's advances interleaved with them would
    make events late that were not. The events wait in the reorder buffer instead and the live
    watermark releases them in event time, as a replay would; an event the previous owner
    applied late (`Twin.counts.late`) is applied in time here, the one way the result can differ.
    """

    def load(partitions: frozenset[Partition]) -> Loaded:
        live = LiveTwin(stations, seed)
        return Loaded(live, live.rebuild(events_of(store.load_archive(), partitions)))

    return load


class Member(Protocol):
    """What the rebalance callbacks need from the worker."""

    def take_over(self, partitions: list[Partition]) -> Loaded:
        """Load the twin of `partitions` and assign them at the stored offsets."""
        ...

    def hand_over(self) -> None:
        """Wait for the last commit and drop the twin."""
        ...


class GroupConsumer(Protocol):
    """The consumer calls a group member makes besides `streams.ports.ConsumerPort`'s."""

    def subscribe(self, topics: list[str], **callbacks: Any) -> None: ...
    def unassign(self) -> None: ...


class Rebalance:
    """Subscribes a member to the input topics and answers the group's callbacks; fences its
    commits and remembers its yards' partitions (for its twin snapshots' scope)."""

    def __init__(
        self,
        consumer: GroupConsumer,
        member: Member,
        topics: Sequence[str],
        store: TwinStore | None = None,
        group_id: str = "",
    ) -> None:
        self.consumer, self.member, self.topics = consumer, member, list(topics)
        self.store, self.group_id = store, group_id
        self.owned: frozenset[Partition] = frozenset()
        self.everything: frozenset[Partition] = frozenset()  # every input partition, if known
        self.rebalances = 0
        self.claim: str | None = None  # this member's claim on `owned` (`api.store.fencing`)
        self.yards: dict[str, set[Partition]] = {}  # the partitions each yard's events came on
        self.loaded_at: dict[str, datetime] = {}  # outputs stored by the previous owner until
        self.snapshots_used: list[int] = []  # the member snapshots loaded, every assignment
        self.alerted_until: dict[str, datetime] = {}  # reefer alerts sent by previous owners
        self.twin_snapshots: TwinSnapshots | None = None  # its twin's (`streams.twin_restart`)

    def subscribe(self, everything: Iterable[Partition]) -> None:
        """Join the group; `everything` is every input partition (for the corridor scope)."""
        self.everything = frozenset(everything)
        self.consumer.subscribe(
            self.topics, on_assign=self.assigned, on_revoke=self.revoked, on_lost=self.lost
        )

    @property
    def owns_all(self) -> bool:
        """Whether this worker holds every input partition (it alone sees the corridor)."""
        return bool(self.everything) and self.everything <= self.owned

    def assigned(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        where = sorted({(tp.topic, tp.partition) for tp in partitions})
        if isinstance(self.store, PartitionFence):  # before loading: see `api.store.fencing`
            self.claim = self.store.claim_partitions(self.group_id, frozenset(where))
            self.alerted_until = self.store.partials_until()
        self.owned = frozenset(where)
        loaded = self.member.take_over(where)  # assigns them, at the store's offsets
        if self.twin_snapshots is not None:  # the next is due a period after the loaded one
            self.twin_snapshots.start(loaded.live)
        for yard, came_on in loaded.yards.items():
            self.yards.setdefault(yard, set()).update(came_on)
        self.loaded_at = dict(loaded.loaded_at)
        self.snapshots_used.extend(loaded.snapshot_ids)
        self.rebalances += 1

    def revoked(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        self.member.hand_over()
        log.info("handed over %d partitions", len(self.owned))
        self.owned, self.claim = frozenset(), None
        self.consumer.unassign()

    def lost(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        log.warning("lost %d partitions (session timed out): dropping them", len(partitions))
        self.revoked(consumer, partitions)

    def scope(self) -> MemberScope:
        """What a twin snapshot of this member covers: its partitions and its yards' ones."""
        yards = {
            yard: frozenset(came_on)
            for yard, came_on in self.yards.items()
            if came_on and came_on <= self.owned
        }
        return MemberScope(self.owned, yards)

    def finish(self, batch: TwinBatch, live: LiveTwin) -> None:
        """A batch about to be committed: its outputs of owned yards only (`keep_owned`), not
        before what the yards' previous owner stored, its yards noted, its claim on it."""
        for entry in batch.archived:
            if isinstance(entry, ArchivedEvent):
                came_on = self.yards.get(entry.yard)
                if came_on is None:
                    came_on = self.yards[entry.yard] = set()
                came_on.add((entry.topic, entry.partition))
        keep_owned(batch, yards_of(live), corridor=self.owns_all, loaded_at=self.loaded_at)
        batch.fence = self.claim
        if live.alerts is not None and self.alerted_until:  # sent by their yard's last owner
            until, never = self.alerted_until, _NEVER
            pending = live.alerts.pending
            live.alerts.pending = [a for a in pending if a.seen_at > until.get(a.yard, never)]


class Joining(Member, Protocol):
    """A worker joining its group (`streams.worker.Worker`)."""

    consumer: ConsumerPort
    settings: KafkaSettings
    store: TwinStore
    twin_snapshots: TwinSnapshots


def join(member: Joining, everything: Iterable[Partition]) -> Rebalance:
    """Subscribe `member`'s consumer (a real one: `streams.clients.make_consumer`) to its input
    topics; its commits fenced in its store (when the store can fence), its twin snapshots
    scoped to its partitions."""
    settings = member.settings
    consumer = cast(GroupConsumer, member.consumer)
    group = Rebalance(consumer, member, settings.input_topics, member.store, settings.group_id)
    member.twin_snapshots.member, group.twin_snapshots = group, member.twin_snapshots
    group.subscribe(everything)
    return group


def finish(group: Rebalance | None, batch: TwinBatch, live: LiveTwin) -> None:
    """`Rebalance.finish` for a group member's batch (nothing for a single worker's)."""
    if group is not None:
        group.finish(batch, live)


def waiting(group: Rebalance | None) -> bool:
    """Whether a worker is a group member without partitions (not idle: its share is coming)."""
    return group is not None and not group.owned


def share(group: Rebalance | None) -> frozenset[Partition] | None:
    """A group member's partitions (None for a single worker, which owns every one)."""
    return None if group is None else group.owned


def fresh(messages: Sequence[InputMessage], positions: Mapping[Partition, int]) -> list[Any]:
    """The messages of owned partitions not read yet (end-of-partition events pass)."""
    expected = dict(positions)
    kept: list[Any] = []
    for message in messages:
        if message.error() is not None:
            kept.append(message)
            continue
        where = (message.topic() or "", message.partition() or 0)
        offset = message.offset() or 0
        if where in expected and offset >= expected[where]:
            expected[where] = offset + 1
            kept.append(message)
    return kept


def yards_of(live: LiveTwin) -> set[str]:
    """The yards this worker's twin has applied events of (those of its partitions)."""
    twin = live.twin
    if twin is None:
        return set()
    return {yard for yard, counts in twin.counts.per_yard.items() if counts.total()}


def keep_owned(
    batch: TwinBatch,
    yards: set[str],
    *,
    corridor: bool,
    loaded_at: Mapping[str, datetime] | None = None,
) -> None:
    """Leave in `batch` only the outputs of `yards` (and the corridor's if `corridor`).

    The twin models every yard, so the yards of other workers' partitions would show up empty
    and overwrite those workers' rows: their snapshots, states, reefers, boxes and records go.
    A yard loaded from a snapshot taken at `loaded_at[yard]` may be ahead of the twin's
    watermark (`streams.group_load`): its KPIs up to then were stored by the snapshot's
    writer and are not written again (nor the corridor's up to the latest such time: the store
    merges it from the stored partials).
    """
    scopes = yards | {CORRIDOR} if corridor else yards
    done = dict(loaded_at or {})
    if done:
        done[CORRIDOR] = max(done.values())
    batch.snapshots = [
        s for s in batch.snapshots if s.scope in scopes and s.as_of > done.get(s.scope, _NEVER)
    ]
    batch.partials = [
        p for p in batch.partials if p.yard in yards and p.as_of > done.get(p.yard, _NEVER)
    ]
    batch.yard_states = [row for row in batch.yard_states if row["yard"] in yards]
    batch.reefers = [row for row in batch.reefers if row["yard"] in yards]
    batch.boxes = [row for row in batch.boxes if row["yard"] in yards]
    for name, rows in batch.records.items():
        at = RECORD_TYPES[name]._fields.index("yard")  # type: ignore[attr-defined]
        batch.records[name] = [row for row in rows if row[at] in yards]

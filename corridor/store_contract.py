"""What a live twin hands to its durable store, and the store's contract.

The worker (in `streams/`) keeps the twin's durable state through a `TwinStore`: the archive
of accepted events, the input offsets, and the outputs (KPI snapshots, yard states, completed
records, reefer status, dead-letter counts) are written in one atomic `commit`, so after a
crash the worker rebuilds each yard by replaying the archive and resumes exactly where its
outputs end. Outputs are keyed upserts: writing the same batch twice changes nothing.
The production implementation is SQLModel-based and lives in `api/`; this module is pure so
the core and the Kafka edge can both speak it without importing SQL.
"""

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol, runtime_checkable

TopicPartition = tuple[str, int]


class ArchivedEvent(NamedTuple):
    """An accepted event as it arrived (the exact bytes), in acceptance order.

    `topic`, `partition` and `offset` say where it came from, so that an event still in the
    reorder buffer at a crash, and rejected by the engine after the restart, can name its origin
    in the dead letters; a store that does not keep them may drop them (the dead letter then
    says partition -1, offset -1). A tuple: the worker makes one per message.
    """

    event_id: str
    yard: str
    ts: datetime
    raw: bytes
    topic: str = ""
    partition: int = -1
    offset: int = -1


class ClockAdvance(NamedTuple):
    """A watermark advance of all yard clocks, archived so a rebuild reproduces it."""

    moment: datetime


ArchiveEntry = ArchivedEvent | ClockAdvance


def archive_key(entry: ArchiveEntry) -> str:
    """An entry's key in the archive, unique in it: its event id, or `advance@<UTC moment>`."""
    if isinstance(entry, ClockAdvance):
        return f"advance@{entry.moment.astimezone(UTC).isoformat()}"
    return entry.event_id


@dataclass(frozen=True, slots=True)
class KpiSnapshot:
    """KPIs of one yard (or "corridor") over a rolling window ending at an event time.

    Keyed by (scope, window, as_of): a replay recomputes the same key with the same value.
    """

    scope: str  # a yard id or "corridor"
    window: str  # "1h" | "shift" | "24h" | "7d"
    as_of: datetime  # the event time the KPIs reflect (window end)
    computed_at: datetime  # wall clock, informational only
    kpis: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class KpiPartial:
    """One yard's partial KPIs over a rolling window ending at an event time
    (`corridor.kpis.partials`): what the corridor snapshot at the same (window, as_of) is merged
    from once every yard's is in the store. Keyed by (yard, window, as_of), like a snapshot."""

    yard: str
    window: str  # "1h" | "shift" | "24h" | "7d"
    as_of: datetime
    partial: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message that could not be applied, with where it came from and why.

    `reason` is a short code from a small vocabulary, so counting by reason stays meaningful
    ("not_json", "invalid:ts", "duplicate", "rejected:container_id"; see
    `streams.dead_letters` and `docs/streams.md`); `detail` (optional) is the full message
    naming the field, e.g. "ts: Expected `datetime` with a timezone component".
    """

    reason: str  # code-like, e.g. "invalid:ts"
    source_topic: str
    partition: int
    offset: int
    raw: bytes
    detail: str = ""


@dataclass(frozen=True, slots=True)
class MemberScope:
    """What a group member's twin snapshot covers: its partitions, and which of them each yard
    it holds came from (a yard's feeds share one partition index: `streams.rebalance`)."""

    partitions: frozenset[TopicPartition]
    yards: Mapping[str, frozenset[TopicPartition]]


@dataclass(frozen=True, slots=True)
class TwinSnapshotOut:
    """The live twin's whole state (`streams.live.state` bytes) at its watermark, to store.

    It covers every archive entry of the commit that carries it and of those before, so a
    restart loads it and replays only the archive after it; the store keeps the newest `keep`
    (a snapshot is a cache of the archive, never the only copy).
    """

    watermark: datetime
    data: bytes
    keep: int
    scope: MemberScope | None = None  # a group member's (None: a single worker's, of all)


class StoredTwinSnapshot(NamedTuple):
    """A stored live-twin snapshot: its id, watermark, and the archive position it covers
    (`TwinSnapshotStore.load_archive(after=position)` gives the entries after it)."""

    id: int
    watermark: datetime
    position: int
    scope: MemberScope | None = None  # a group member's (None: a single worker's, of all)


@dataclass(slots=True)
class TwinBatch:
    """Everything one consumed batch produced, committed atomically with its offsets.

    `lag` is the messages known to be waiting on the input partitions after this batch (None
    when unknown); `flags` counts valid but suspicious inputs of this batch by kind (added to the
    store's totals); `yards_ahead` is each yard whose clock is ahead of the newest input event
    by more than the allowed lateness, and by how many seconds (replaces the stored one). The
    last three are for `GET /ready` and `/metrics`. Like the reefers, `boxes` (the boxes at
    least `live_view.LISTED_FROM_H` old) is complete for each yard whose state is in the batch.
    """

    group: str
    offsets: dict[TopicPartition, int]  # next offset to read, per topic partition
    archived: list[ArchiveEntry] = field(default_factory=list)
    snapshots: list[KpiSnapshot] = field(default_factory=list)
    partials: list[KpiPartial] = field(default_factory=list)
    yards: list[str] = field(default_factory=list)  # the scenario's, in order (for the merge)
    yard_states: list[Mapping[str, Any]] = field(default_factory=list)  # YardState as dicts
    reefers: list[Mapping[str, Any]] = field(default_factory=list)  # ReeferStatus as dicts
    boxes: list[Mapping[str, Any]] = field(default_factory=list)  # BoxNow (the old boxes) as dicts
    records: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    lag: int | None = None
    flags: dict[str, int] = field(default_factory=dict)
    yards_ahead: dict[str, float] = field(default_factory=dict)
    twin_snapshot: TwinSnapshotOut | None = None  # stored with this batch's archive, atomically
    fence: str | None = None  # a group member's claim: refused unless it still owns its claim


class TwinStore(Protocol):
    """The live twin's durable memory (implemented with SQLModel in `api.store.sql_store`)."""

    def load_offsets(self, group: str) -> dict[TopicPartition, int]:
        """The next offset to read per topic partition, as last committed by `group`."""
        ...

    def load_archive(self) -> Iterator[ArchiveEntry]:
        """Every archived entry, in the order it was committed."""
        ...

    def commit(self, batch: TwinBatch) -> None:
        """Write the batch atomically: archive, offsets and keyed-upsert outputs together."""
        ...

    def archived(self, event_id: str, ts: datetime) -> bool:
        """Is an event with this id and time in the archive? (Asked only for events older than
        the live twin's repeat window, `streams.live.twin.RETENTION`: rare, may be slow.)"""
        ...


@runtime_checkable
class TwinSnapshotStore(Protocol):
    """A `TwinStore` that also keeps live-twin snapshots (`TwinBatch.twin_snapshot`)."""

    def twin_snapshots(self) -> list[StoredTwinSnapshot]:
        """The stored snapshots, newest first."""
        ...

    def twin_snapshot_data(self, snapshot_id: int) -> bytes | None:
        """A stored snapshot's bytes (None: deleted since it was listed)."""
        ...

    def load_archive(self, after: int = 0) -> Iterator[ArchiveEntry]:
        """The archived entries after `after` (a snapshot's position; 0: all), in order."""
        ...


@dataclass(frozen=True, slots=True)
class StoreOpener:
    """How another process opens the same store (`open`: picklable), and the record tables the
    store does not keep (`TwinBatch.records` of these need not be sent to it)."""

    open: Callable[[], TwinStore]
    records_not_kept: frozenset[str] = frozenset()


@runtime_checkable
class ReopenableStore(Protocol):
    """A `TwinStore` that another process can open too: the worker's commits can then run in a
    writer process of their own (`streams.store_writer`)."""

    def reopener(self) -> StoreOpener | None:
        """This store, for another process (None: it cannot be, e.g. an in-memory database)."""
        ...


class FencedError(RuntimeError):
    """A group member's commit refused: another member claimed one of its partitions since
    (`PartitionFence`); nothing of the batch was stored."""


@runtime_checkable
class PartitionFence(Protocol):
    """A `TwinStore` that fences a consumer group's members (`api.store.fencing`)."""

    def claim_partitions(self, group: str, partitions: frozenset[TopicPartition]) -> str:
        """Make the caller the owner of `partitions`: a claim token for `TwinBatch.fence`.
        Every commit carrying an older claim of any of them is refused from now on."""
        ...

    def member_snapshots(self, partitions: frozenset[TopicPartition]) -> list[StoredTwinSnapshot]:
        """The stored group members' snapshots covering any of `partitions`, newest first."""
        ...

    def partials_until(self) -> dict[str, datetime]:
        """Per yard, the latest `as_of` of its stored KPI partials (what its owner committed)."""
        ...

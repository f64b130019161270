"""A `TwinStore` in memory: for tests of the stream logic, and for a throw-away demo worker.

It keeps what the SQL store keeps, with the same keyed-upsert semantics, and is strict where a
test wants to notice a mistake: archiving an event id twice raises instead of being ignored.
Nothing survives the process; the durable store is `api.store.sql_store.SqlStore`.
"""

import copy
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from corridor.kpis.merge import complete
from corridor.store_contract import (
    ArchiveEntry,
    DeadLetter,
    KpiSnapshot,
    StoredTwinSnapshot,
    TopicPartition,
    TwinBatch,
    archive_key,
)


class ArchiveConflictError(ValueError):
    """The same event id (or clock advance) was archived twice: offsets and archive disagree."""


class MemoryStore:
    """The live twin's memory, in this process only."""

    def __init__(self) -> None:
        self.archive: list[ArchiveEntry] = []
        self.offsets: dict[str, dict[TopicPartition, int]] = {}
        self.snapshots: dict[tuple[str, str, datetime], KpiSnapshot] = {}
        self.partials: dict[tuple[str, datetime], dict[str, Mapping[str, Any]]] = {}
        self.yard_states: dict[str, Mapping[str, Any]] = {}
        self.reefers: dict[str, list[Mapping[str, Any]]] = {}
        self.boxes: dict[str, list[Mapping[str, Any]]] = {}  # the old boxes, per yard
        self.records: dict[str, list[tuple[Any, ...]]] = {}
        self.dead_letters: dict[tuple[str, int, int], DeadLetter] = {}
        self.dead_letter_counts: Counter[str] = Counter()
        self.lag: dict[str, int | None] = {}
        self.flag_counts: Counter[str] = Counter()
        self.yards_ahead: dict[str, dict[str, float]] = {}
        self.twin_snapshot_rows: list[tuple[StoredTwinSnapshot, bytes]] = []  # oldest first
        self.commits = 0
        self._keys: set[str] = set()

    def load_offsets(self, group: str) -> dict[TopicPartition, int]:
        """The next offset per topic partition last committed by `group`."""
        return dict(self.offsets.get(group, {}))

    def load_archive(self, after: int = 0) -> Iterator[ArchiveEntry]:
        """Every archived entry in commit order (after the first `after`: a snapshot's position)."""
        return iter(self.archive[after:])

    def twin_snapshots(self) -> list[StoredTwinSnapshot]:
        """The stored live-twin snapshots, newest first."""
        return [stored for stored, _data in reversed(self.twin_snapshot_rows)]

    def twin_snapshot_data(self, snapshot_id: int) -> bytes | None:
        """A stored snapshot's bytes (None: pruned)."""
        found = [data for stored, data in self.twin_snapshot_rows if stored.id == snapshot_id]
        return found[0] if found else None

    def archived(self, event_id: str, ts: datetime) -> bool:
        """Is an event with this id in the archive? (Its key is its id.)"""
        return event_id in self._keys

    def commit(self, batch: TwinBatch) -> None:
        """Apply the whole batch or, if it conflicts with the archive, none of it."""
        keys = [archive_key(entry) for entry in batch.archived]
        clash = [key for key in keys if key in self._keys] or _repeated(keys)
        if clash:
            raise ArchiveConflictError(f"archived twice: {clash[0]}")
        self._keys.update(keys)
        self.archive.extend(batch.archived)
        if batch.twin_snapshot is not None:
            out = batch.twin_snapshot
            number = self.twin_snapshot_rows[-1][0].id + 1 if self.twin_snapshot_rows else 1
            stored = StoredTwinSnapshot(number, out.watermark, len(self.archive))
            self.twin_snapshot_rows = [*self.twin_snapshot_rows, (stored, out.data)][-out.keep :]
        self.offsets.setdefault(batch.group, {}).update(batch.offsets)
        self.lag[batch.group] = batch.lag
        self.flag_counts.update(batch.flags)
        self.yards_ahead[batch.group] = dict(batch.yards_ahead)
        for snapshot in batch.snapshots:
            self.snapshots[(snapshot.scope, snapshot.window, snapshot.as_of)] = snapshot
        self._corridor(batch)
        self._states(batch)
        for name, rows in batch.records.items():
            self.records.setdefault(name, []).extend(rows)
        for letter in batch.dead_letters:
            origin = (letter.source_topic, letter.partition, letter.offset)
            if origin not in self.dead_letters:
                self.dead_letters[origin] = letter
                self.dead_letter_counts[letter.reason] += 1
        self.commits += 1

    def latest_snapshots(self) -> dict[tuple[str, str], KpiSnapshot]:
        """The newest snapshot per (scope, window)."""
        latest: dict[tuple[str, str], KpiSnapshot] = {}
        for (scope, window, _as_of), snapshot in sorted(self.snapshots.items()):
            latest[(scope, window)] = snapshot
        return latest

    def _corridor(self, batch: TwinBatch) -> None:
        """Keep the batch's yard partials; merge the corridor's snapshot at each (window,
        as_of) whose yards are all in, unless the batch carries it (`api.store.sql_store`)."""
        given = {(s.window, s.as_of) for s in batch.snapshots if s.scope == "corridor"}
        for part in batch.partials:
            self.partials.setdefault((part.window, part.as_of), {})[part.yard] = part.partial
        for key in sorted({(p.window, p.as_of) for p in batch.partials} - given):
            kpis = complete(batch.yards, self.partials[key])
            if kpis is not None:
                window, as_of = key
                snapshot = KpiSnapshot("corridor", window, as_of, datetime.now(UTC), kpis)
                self.snapshots[("corridor", window, as_of)] = snapshot

    def _states(self, batch: TwinBatch) -> None:
        yards = {str(state["yard"]) for state in batch.yard_states}
        for state in batch.yard_states:
            self.yard_states[str(state["yard"])] = copy.deepcopy(dict(state))
        for yard in yards:
            self.reefers[yard] = []
            self.boxes[yard] = []
        for reefer in batch.reefers:
            self.reefers.setdefault(str(reefer["yard"]), []).append(dict(reefer))
        for box in batch.boxes:
            self.boxes.setdefault(str(box["yard"]), []).append(dict(box))


def _repeated(keys: list[str]) -> list[str]:
    counts = Counter(keys)
    return [key for key, count in counts.items() if count > 1]

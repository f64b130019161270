"""A worker's two restarts on a caught-up store, timed the same way by every benchmark.

A worker stores its live twin's snapshot as it stops cleanly (`streams.twin_restart`), so a
new worker on the same store loads that snapshot and replays only the archive after it: none,
after a clean stop. That is the restart an operator sees, but it says nothing about the archive
replay it avoids, which a store without a usable snapshot (a first upgrade, every snapshot
refused) still goes through. `time_restarts` measures both on one store, labelled apart:

- **from the snapshot**: a new worker built and started (`Worker.start`: the newest snapshot, the
  archive after it, and the partitions assigned at the stored offsets);
- **full rebuild**: the whole archive replayed into a new live twin, the stored snapshots
  ignored (`twin_restart.load(..., snapshots=False)`, the same loader the worker's start uses);
  the partitions are not assigned here, which costs milliseconds against the replay's seconds.

The worker started for the first figure is closed again without storing anything: its
watermark has not moved since the load, so a clean stop has no new snapshot to store.
"""

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from api.store.sql_store import SqlStore
from stations.spec import StationSpec
from streams import twin_restart
from streams.worker import Worker


@dataclass(frozen=True, slots=True)
class Restarts:
    """Seconds and archive entries replayed by each restart (see the module docstring)."""

    snapshot_s: float
    tail: int  # archive entries after the newest snapshot, replayed on top of it
    snapshots: int  # stored on the store
    snapshot_mb: float  # the newest one's size
    rebuild_s: float
    entries: int  # archive entries the full rebuild replayed

    @property
    def ratio(self) -> float:
        """How many times faster the snapshot restart was."""
        return self.rebuild_s / self.snapshot_s


def time_restarts(
    new_worker: Callable[[], Worker],
    store: SqlStore,
    stations: Mapping[str, StationSpec],
    seed: int,
) -> Restarts:
    """Time a new worker's start on `store` (from its newest twin snapshot), then a full
    rebuild of the same archive without the snapshots."""
    began = time.perf_counter()
    worker = new_worker()
    worker.start()
    snapshot_s = time.perf_counter() - began
    tail = worker.stats.rebuilt
    stored = store.twin_snapshots()
    worker.close()
    assert store.twin_snapshots()[:1] == stored[:1], "the closed worker stored a snapshot"
    size = len(store.twin_snapshot_data(stored[0].id) or b"") if stored else 0
    began = time.perf_counter()
    loaded = twin_restart.load(store, stations, seed, snapshots=False)
    rebuild_s = time.perf_counter() - began
    return Restarts(snapshot_s, tail, len(stored), size / 1e6, rebuild_s, loaded.entries)

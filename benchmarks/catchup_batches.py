"""The `TwinBatch`es a worker's catch-up commits, captured, and a store's tables as one digest.

A real worker (`inprocess_worker.py`: decode, checks, engine, snapshots; no broker) catches up
on generated traffic into a SQLite store whose `commit` also keeps each batch, so that a
benchmark can commit the very same batches again, alone and single-threaded
(`bench_store_commit.py`). `table_digest` hashes every stored row of a SQLite store, in
rowid order, less the columns the store fills from the wall clock: the same batches committed
by two trees give the same digest when they store the same rows.
"""

import hashlib
import pickle
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import workload  # type: ignore[import-not-found]
from inprocess_worker import catch_up, inprocess_worker  # type: ignore[import-not-found]

from api.store.sql_store import SqlStore
from corridor.store_contract import TwinBatch
from streams.settings import KafkaSettings

WALL_CLOCK_COLUMNS = frozenset({"committed_at", "updated_at", "stored_at"})
"""Columns a commit fills with the time it ran (`api.store.db.utc_now`)."""


class CapturingStore:
    """A store that keeps every batch it commits (and commits it)."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self.batches: list[TwinBatch] = []

    def commit(self, batch: TwinBatch) -> None:
        self.batches.append(batch)
        self.store.commit(batch)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def captured(stations: workload.Stations, count: int, seed: int) -> list[TwinBatch]:
    """The batches an in-process worker commits catching up on `count` generated events."""
    events = list(workload.backlog(stations, count, seed))
    settings = KafkaSettings(bootstrap_servers="in-process:0", group_id="bench", quiet_after_s=0.5)
    with tempfile.TemporaryDirectory() as scratch:
        store = CapturingStore(SqlStore.open(f"sqlite:///{Path(scratch) / 'twin.db'}"))
        worker, feed = inprocess_worker(settings, store, stations, seed)  # type: ignore[arg-type]
        worker.start()
        catch_up(worker, feed, events)
        worker.close()
        store.close()
    return store.batches


def saved(batches: list[TwinBatch], path: Path) -> Path:
    """The batches pickled to `path` (a child process commits them under callgrind)."""
    path.write_bytes(pickle.dumps(batches, protocol=pickle.HIGHEST_PROTOCOL))
    return path


def loaded(path: Path) -> list[TwinBatch]:
    """Batches `saved` to `path`."""
    batches: list[TwinBatch] = pickle.loads(path.read_bytes())
    return batches


def table_digest(database: Path) -> str:
    """sha256 of every row of every table, in rowid order, less `WALL_CLOCK_COLUMNS`."""
    digest = hashlib.sha256()
    with sqlite3.connect(database) as connection:
        names = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
            if not name.startswith("sqlite_")
        ]
        for name in names:
            columns = [
                column
                for _, column, *_ in connection.execute(f'PRAGMA table_info("{name}")')
                if column not in WALL_CLOCK_COLUMNS
            ]
            listed = ", ".join(f'"{column}"' for column in columns)
            digest.update(f"{name}({listed})\n".encode())
            for row in connection.execute(f'SELECT {listed} FROM "{name}" ORDER BY rowid'):
                digest.update(repr(row).encode() + b"\n")
    return digest.hexdigest()

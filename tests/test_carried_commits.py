"""Live batches carried past a running store commit (`streams.carried_commits`).

A real worker loop (Kafka doubles, real SQLite stores) takes a generated day in parts, as it
would live. Its batches, committed one by one to one store and merged in runs to another, leave
the same rows; a worker whose store commits slowly holds batches instead of waiting, and
stores everything it read and published all the same.
"""

import copy
import time
from dataclasses import fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from sqlalchemy import select
from sqlmodel import SQLModel

from api.store.sql_store import SqlStore
from corridor.store_contract import ArchivedEvent, TwinBatch
from streams.carried_commits import RULES, merged
from streams.live.reorder import to_micros
from tests.broker_fixtures import SEED, generated_day, stations
from tests.kafka_doubles import cluster_for, fake_settings, fake_worker, publish

EVENTS = generated_day()[:1500]
PART = 50  # events published at a time: the worker is live, its batches partial
UNSTABLE = {"id", "seq", "first_key", "stored_at", "committed_at", "updated_at", "position"}


class Recorded:
    """The real SQL store, keeping a copy of every batch committed, each commit `delay_s` late
    (a store that stalls now and then, as SQLite's checkpoints do)."""

    def __init__(self, store: SqlStore, delay_s: float = 0.0) -> None:
        self.store, self.delay_s = store, delay_s
        self.batches: list[TwinBatch] = []

    def commit(self, batch: TwinBatch) -> None:
        self.batches.append(copy.deepcopy(batch))
        time.sleep(self.delay_s)
        self.store.commit(batch)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def run_live(store: Recorded, *, settle: bool = False, **settings: Any) -> tuple[int, list[bytes]]:
    """The worker through `EVENTS` a part at a time: the batches it held while a commit ran,
    and the KPI messages it published. `settle`: each part's commits are stored before the
    next part comes, so that every part commits at least one batch of its own however fast
    the store is (how many of a part's own steps are held and merged is the machine's)."""
    # the commits recorded in this process: the thread writer whatever the environment says
    given = fake_settings(batch_size=200, store_writer="thread", **settings)
    cluster = cluster_for(given)
    worker = fake_worker(cluster, given, store, stations(), SEED)  # type: ignore[arg-type]
    worker.start()
    for first in range(0, len(EVENTS), PART):
        publish(cluster, given, EVENTS[first : first + PART])
        while worker.step():
            pass
        if settle:
            worker.commits.wait()
    worker.step()  # quiet: the buffer flushed
    worker.close()
    published = [message.value() or b"" for message in cluster.messages(given.topic_kpi)]
    return worker.commits.carried, published


def rows(store: SqlStore) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows without the columns that number or time the commits themselves, and
    the archive as entries (its segments follow the commits)."""
    tables = {"archive": [(repr(entry),) for entry in store.load_archive()]}
    with store.engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            if table.name == "archive_segments":
                continue
            columns = [column for column in table.columns if column.name not in UNSTABLE]
            found = connection.execute(select(*columns)).all()
            tables[table.name] = sorted((tuple(map(repr, row)) for row in found), key=repr)
    return tables


def runs(batches: list[TwinBatch], size: int) -> list[tuple[TwinBatch, int]]:
    """Consecutive batches merged `size` at a time (a run ends early at a twin snapshot), each
    with the number of batches merged so far."""
    out: list[tuple[TwinBatch, int]] = []
    run: TwinBatch | None = None
    count = 0
    for index, batch in enumerate(batches, start=1):
        run, count = (batch, 1) if run is None else (merged(run, batch), count + 1)
        if count == size or run.twin_snapshot is not None or index == len(batches):
            out.append((run, index))
            run = None
    return out


def test_every_batch_field_has_a_merge_rule() -> None:
    assert {item.name for item in fields(TwinBatch)} == RULES


def test_merged_runs_store_what_their_batches_store(tmp_path: Path) -> None:
    recorded = Recorded(SqlStore.open(f"sqlite:///{tmp_path / 'worker.db'}"))
    run_live(recorded, settle=True, twin_snapshot_every=timedelta(hours=2))
    batches = recorded.batches  # as committed (some held and merged already: it is live)
    assert len(batches) >= len(EVENTS) // PART  # at least one a part (`settle`)
    assert sum(batch.twin_snapshot is not None for batch in batches) >= 2
    assert sum(bool(batch.snapshots) for batch in batches) >= 5
    one_by_one = SqlStore.open(f"sqlite:///{tmp_path / 'one_by_one.db'}")
    in_runs = SqlStore.open(f"sqlite:///{tmp_path / 'in_runs.db'}")
    merged_runs = runs(batches, size=3)
    assert len(merged_runs) < len(batches) / 2
    done = 0
    for batch, through in merged_runs:  # the same rows after each run as after its batches
        for single in batches[done:through]:
            one_by_one.commit(single)
        in_runs.commit(batch)
        done = through
        assert rows(in_runs) == rows(one_by_one)
    assert rows(one_by_one)["kpi_snapshots"]
    assert rows(one_by_one)["truck_visits"]


def test_a_batch_with_a_twin_snapshot_is_not_merged_into(tmp_path: Path) -> None:
    recorded = Recorded(SqlStore.open(f"sqlite:///{tmp_path / 'worker.db'}"))
    run_live(recorded, twin_snapshot_every=timedelta(hours=2))
    with_snapshot = next(b for b in recorded.batches if b.twin_snapshot is not None)
    with pytest.raises(ValueError, match="twin snapshot"):
        merged(with_snapshot, recorded.batches[-1])


def test_a_slow_store_holds_live_batches_and_loses_nothing(tmp_path: Path) -> None:
    slow = Recorded(SqlStore.open(f"sqlite:///{tmp_path / 'slow.db'}"), delay_s=0.05)
    carried, published = run_live(slow)
    assert carried > 5, "live batches were held while a commit ran"
    store = slow.store
    archived = [e.event_id for e in store.load_archive() if isinstance(e, ArchivedEvent)]
    assert sorted(archived) == sorted(event.event_id for event in EVENTS)
    table = SQLModel.metadata.tables["kpi_snapshots"]
    with store.engine.connect() as connection:
        found = connection.execute(select(table.c.scope, table.c.window, table.c.as_of)).all()
    stored = {(scope, window, to_micros(as_of)) for scope, window, as_of in found}
    sent = {
        (item["scope"], item["window"], to_micros(datetime.fromisoformat(item["as_of"])))
        for item in map(msgspec.json.decode, published)
    }
    assert sent, "KPI snapshots were published"
    assert sent <= stored, "every KPI snapshot published was stored"
    offsets = store.load_offsets(fake_settings().group_id)
    assert sum(offsets.values()) == len(EVENTS)

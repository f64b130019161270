"""Crash equivalence: a worker killed with SIGKILL mid-stream and restarted loses nothing.

A real worker process (the `corridor worker` command wired to the API's SQL store on a SQLite
file) is killed with SIGKILL at several points while it catches up on a published day, then
restarted each time. It loads its twin (the newest stored twin snapshot, due every two hours of
event time here, and the archive after it: `streams.twin_restart`) and resumes at the stored
offsets; the later kills come after snapshots were stored, so restarts start from one;
its final KPIs equal those of an uninterrupted worker on the same topics, no event is archived
twice (a re-read message would come back as a "duplicate" dead letter) and none is missing.
"""

import signal
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from api.store.sql_store import SqlStore
from api.store.tables import ArchiveSegment, table_of
from corridor.store_contract import ArchivedEvent
from streams.broker import EmbeddedBroker
from streams.publish import publish
from tests.api_fixtures import final_kpis
from tests.broker_fixtures import generated_day, settings_for
from tests.worker_processes import (
    as_json,
    dead_letter_reasons,
    start_worker,
    worker_of_its_own,
)

pytestmark = [pytest.mark.broker, pytest.mark.slow]
KILL_AT = (600, 1800, 3200)  # archive entries committed when the worker is killed
KILL_AFTER_SNAPSHOTS = (1, 2)  # then: twin snapshots stored when the worker is killed


def test_sigkill_at_several_points_then_restart_equals_an_uninterrupted_run(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    settings = settings_for(broker, batch_size=100, twin_snapshot_every=timedelta(hours=2))
    events = generated_day(days=2)  # today's volumes: one day is under the last kill point
    first = [e for e in events if e.ts < events[0].ts + timedelta(hours=36)]
    publish(first, settings)  # the rest before the last kill, so that worker has more to read
    url = f"sqlite:///{tmp_path / 'twin.db'}"
    store = SqlStore.open(url)
    killed_at, snapshots_then = [], []

    for threshold in KILL_AT:
        worker = start_worker(settings, url, tmp_path / f"worker-{threshold}.log")
        killed_at.append(wait_for_archive(store, worker, threshold))
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        snapshots_then.append(len(store.twin_snapshots()))
    # The watermark moves once every partition delivered: when the fetches bring the dispatch
    # partitions last, it forms near the log's end and may not cross another 2 h of event time,
    # so these workers also store a twin snapshot after 1 s of wall time (`TwinSnapshots.due`).
    walled = settings.model_copy(update={"twin_snapshot_wall_s": 1.0})
    for count in KILL_AFTER_SNAPSHOTS:
        if count == KILL_AFTER_SNAPSHOTS[-1]:
            publish(events[len(first) :], settings)
        worker = start_worker(walled, url, tmp_path / f"worker-snapshot-{count}.log")
        wait_for_twin_snapshots(store, worker, count)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        snapshots_then.append(len(store.twin_snapshots()))
        log = (tmp_path / f"worker-snapshot-{count}.log").read_text()
        assert count == 1 or "restored the twin from snapshot" in log
    final = start_worker(settings, url, tmp_path / "worker-final.log", "--exit-when-idle", "1")
    assert final.wait(timeout=120) == 0, (tmp_path / "worker-final.log").read_text()[-3000:]

    assert snapshots_then[:3] == [0, 0, 0], "the watermark moves once every partition delivered"
    assert min(snapshots_then[3:]) > 0, snapshots_then
    assert "restored the twin from snapshot" in (tmp_path / "worker-final.log").read_text()

    assert killed_at == sorted(killed_at), killed_at
    assert killed_at[-1] < len(events), "killed mid-stream"
    archived = [e.event_id for e in store.load_archive() if isinstance(e, ArchivedEvent)]
    assert len(archived) == len(set(archived)) == len(events)
    assert dead_letter_reasons(store).get("duplicate", 0) == 0
    uninterrupted = worker_of_its_own(settings, "whole", idle_exit_s=0.6)
    assert dead_letter_reasons(store) == dict(uninterrupted.dead_letter_counts)
    assert final_kpis(store) == {
        key: as_json(snapshot.kpis) for key, snapshot in uninterrupted.latest_snapshots().items()
    }


def wait_for_archive(store: SqlStore, worker: subprocess.Popen[bytes], threshold: int) -> int:
    """Poll the store until the worker has committed `threshold` archive entries."""
    table = table_of(ArchiveSegment)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert worker.poll() is None, "the worker exited before it was killed"
        with store.engine.connect() as connection:
            count = connection.execute(select(func.sum(table.c.entries))).scalar_one() or 0
        if count >= threshold:
            return int(count)
        time.sleep(0.01)
    raise AssertionError(f"the worker did not archive {threshold} entries in time")


def wait_for_twin_snapshots(store: SqlStore, worker: subprocess.Popen[bytes], count: int) -> None:
    """Poll the store until it holds `count` twin snapshots (the worker stores them)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert worker.poll() is None, "the worker exited before it was killed"
        if len(store.twin_snapshots()) >= count:
            return
        time.sleep(0.01)
    raise AssertionError(f"the worker did not store {count} twin snapshots in time")

"""The store's writer process (`streams.store_writer`): the same rows as the thread, in order;
a failed commit raised in the worker; a writer that dies stops the worker and loses nothing;
and no writer outlives its worker.

Real stores (SQLite files, and PostgreSQL when `CORRIDOR_TEST_POSTGRES_URL` is set), the real
broker for the worker tests, real processes killed with SIGKILL.
"""

import contextlib
import math
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta, timezone
from functools import partial
from pathlib import Path
from subprocess import PIPE
from typing import Any

import psutil
import pytest
from sqlalchemy import select

from api.store import tables as m
from api.store.record_rows import NOT_PERSISTED
from api.store.sql_store import SqlStore
from api.store.tables import table_of
from corridor.store_contract import ArchivedEvent, ClockAdvance, StoreOpener, TwinBatch
from stations.records import BoxVisit, Lift, TruckVisit
from streams import batch_wire
from streams.broker import EmbeddedBroker
from streams.commits import OrderedCommits
from streams.connect import connect_worker
from streams.publish import publish
from streams.store_writer import ProcessCommits, StoreWriterError, commits_for
from streams.worker import Worker
from tests.api_fixtures import T0, final_kpis
from tests.broker_fixtures import SEED, generated_day, run_worker, settings_for, stations
from tests.worker_processes import ROOT, dead_letter_reasons, gone, start_worker

NAN = math.nan
EIGHT = T0.astimezone(timezone(timedelta(hours=8)))  # event times arrive with their offset


def event(number: int) -> ArchivedEvent:
    """An archived event, its time in +08:00 as the feeds send it."""
    raw = b'{"n": %d}' % number
    return ArchivedEvent(
        f"e{number:04d}", "yuzui", EIGHT + timedelta(minutes=number), raw, "t", 0, number
    )


def truck(number: int, departed: float = NAN) -> TruckVisit:
    return TruckVisit(
        "yuzui", f"T{number}", f"C{number}", "export", 2, False, 1.0, 2.0, 3.0, 4.0, False,
        5.0, 6.0, departed,
    )  # fmt: skip


def box(number: int) -> BoxVisit:
    return BoxVisit("yuzui", f"C{number}", "import", 1, True, 1.0, 2.0, NAN, "TR1", False, 0.5)


def batch(offset: int, records: dict[str, list[Any]] | None = None) -> TwinBatch:
    """Two events and a clock advance, with records, up to `offset`."""
    archived = [
        event(offset * 2),
        event(offset * 2 + 1),
        ClockAdvance(EIGHT + timedelta(hours=offset)),
    ]
    given = records if records is not None else {
        "truck_visits": [truck(offset), truck(offset + 100, departed=9.0)],
        "box_visits": [box(offset)],
        "lifts": [Lift("yuzui", "rmg", f"C{offset}", "truck", 1.0, 2.0)],
    }  # fmt: skip
    return TwinBatch("g", {("t", 0): offset}, archived=archived, records=given)


def table_rows(store: SqlStore, model: type[Any]) -> list[tuple[Any, ...]]:
    """A table's rows in primary-key order, NaN and NULL alike (`repr`)."""
    table = table_of(model)
    with store.engine.connect() as connection:
        query = select(table).order_by(*table.primary_key.columns)
        return [tuple(map(repr, row)) for row in connection.execute(query)]


def test_the_wire_gives_back_the_batch_less_the_records_the_store_drops() -> None:
    sent = batch(3)
    got = batch_wire.decode(batch_wire.encode(sent, NOT_PERSISTED))
    assert got.archived == sent.archived  # the same instants (in UTC now)
    assert [type(entry) for entry in got.archived] == [ArchivedEvent, ArchivedEvent, ClockAdvance]
    assert set(got.records) == {"truck_visits", "box_visits"}
    for name, rows in got.records.items():
        assert list(map(repr, rows)) == [repr(tuple(row)) for row in sent.records[name]]
    assert (got.group, got.offsets) == (sent.group, sent.offsets)


def test_the_writer_process_stores_what_the_thread_stores(
    database_url: str, tmp_path: Path
) -> None:
    other = SqlStore.open(f"sqlite:///{tmp_path / 'thread.db'}")
    store = SqlStore.open(database_url, migrate=False)
    by_process, by_thread = commits_for(store, "process", 0), commits_for(other, "thread")
    assert isinstance(by_process, ProcessCommits)
    assert isinstance(by_thread, OrderedCommits)
    for offset in (1, 2, 3):
        by_process.commit(batch(offset), background=offset < 3)
        by_thread.commit(batch(offset), background=offset < 3)
    assert not by_process.pending  # the last was in the foreground: stored before it returned
    by_process.close()
    by_thread.close()
    assert not by_process.process.is_alive()
    assert not os.path.exists(by_process.spool), "the spool is removed on close"
    assert store.load_offsets("g") == other.load_offsets("g") == {("t", 0): 3}
    assert list(store.load_archive()) == list(other.load_archive())
    for model in (m.TruckVisit, m.BoxVisit, m.ArchiveSegment):
        assert table_rows(store, model) == table_rows(other, model)
    store.close()


def test_a_failed_commit_in_the_writer_raises_at_the_next_and_nothing_later_is_stored(
    database_url: str,
) -> None:
    store = SqlStore.open(database_url, migrate=False)
    commits = commits_for(store, "process", writer_from=0)
    commits.commit(batch(1), background=True)
    commits.commit(batch(2, {"no_such_records": [(1,)]}), background=True)
    with pytest.raises(ValueError, match="unknown table 'no_such_records'") as raised:
        commits.commit(batch(3), background=True)
    assert "in the store writer process" in "".join(raised.value.__notes__)
    commits.close()
    assert store.load_offsets("g") == {("t", 0): 1}
    store.close()


def no_database() -> SqlStore:
    raise ConnectionError("the database does not answer")


def test_a_writer_that_cannot_open_the_store_says_so_and_leaves_no_spool(tmp_path: Path) -> None:
    commits = ProcessCommits(StoreOpener(no_database), SqlStore.open(f"sqlite:///{tmp_path}/t.db"))
    with pytest.raises(ConnectionError, match="does not answer"):
        commits.opened()
    # removed by the writer before it answered: a worker that exits now (without `close`,
    # which would remove it too) leaves nothing in /dev/shm
    assert not os.path.exists(commits.spool)
    commits.process.join(10)
    assert commits.process.exitcode == 0
    commits.close()


def test_an_in_memory_database_keeps_its_commits_in_a_thread() -> None:
    store = SqlStore.open("sqlite://")
    assert isinstance(commits_for(store, "process"), OrderedCommits)
    store.close()


@pytest.mark.broker
def test_a_writer_that_dies_stops_the_worker_and_a_restart_loses_nothing(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    settings = settings_for(broker, batch_size=200, store_writer="process", store_writer_from=0)
    events = generated_day()
    publish(events, settings)
    store = SqlStore.open(f"sqlite:///{tmp_path / 'twin.db'}")
    worker = connect_worker(settings, store, stations(), SEED)
    worker.start()
    commits = worker.commits.inner  # under the live batches' carrying (`streams.carried_commits`)
    assert isinstance(commits, ProcessCommits)
    while worker.stats.batches < 5:
        worker.step()
    os.kill(commits.process.pid, signal.SIGKILL)  # with a batch in flight, or between two
    with pytest.raises(StoreWriterError, match=r"store writer process \d+ ended \(exit code -9\)"):
        steps(worker, 100)
    stored = store.load_offsets(settings.group_id)
    assert sum(stored.values()) < len(events), "the worker stopped mid-stream"
    commits.close()  # as the CLI's exit would: no final commit after a failed one
    worker.consumer.close()

    run_worker(settings, store)  # a restart, from the stored offsets
    archived = [e.event_id for e in store.load_archive() if isinstance(e, ArchivedEvent)]
    assert len(archived) == len(set(archived)) == len(events)
    assert dead_letter_reasons(store).get("duplicate", 0) == 0
    whole = SqlStore.open(f"sqlite:///{tmp_path / 'whole.db'}")
    run_worker(settings.model_copy(update={"group_id": "whole"}), whole)
    assert final_kpis(store) == final_kpis(whole)


@pytest.mark.broker
@pytest.mark.slow
def test_the_writer_is_gone_with_its_worker_killed_or_stopped(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    settings = settings_for(broker, batch_size=100, store_writer="process", store_writer_from=0)
    publish(generated_day(), settings)
    url = f"sqlite:///{tmp_path / 'twin.db'}"
    for how in (signal.SIGKILL, signal.SIGTERM):
        log = tmp_path / f"worker-{how.name}.log"
        worker = start_worker(settings, url, log)
        writer = writer_of(worker.pid, log)
        assert writer.ppid() == worker.pid
        worker.send_signal(how)
        code = worker.wait(timeout=60)
        assert code == (-9 if how == signal.SIGKILL else 0), log.read_text()[-3000:]
        assert gone(writer, within_s=10), f"store writer {writer.pid} outlived its worker"


class HangingStore(SqlStore):
    """A store whose commits take a minute (a long transaction, or a busy machine)."""

    def commit(self, batch: TwinBatch) -> None:
        time.sleep(60)
        super().commit(batch)


def open_hanging(url: str) -> HangingStore:
    return HangingStore(SqlStore.open(url, migrate=False).engine)


@contextlib.contextmanager
def a_worker_part(part: str, url: str) -> Iterator[tuple[subprocess.Popen[bytes], int, str]]:
    """This module's function `part` run on the store `url` as a process of its own: the
    process, and its writer's pid and spool from its first line; killed however the `with`
    block went (the `Popen`'s own `with` then waits for it)."""
    code = f"from tests.test_store_writer import {part}; {part}({url!r})"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=PIPE) as worker:
        try:
            assert worker.stdout is not None
            pid, spool = worker.stdout.readline().decode().split()
            yield worker, int(pid), spool
        finally:
            worker.kill()


def hold_a_commit(url: str) -> None:
    """A worker's part, as a process of its own: a commit under way in its writer, forever."""
    opener = StoreOpener(partial(open_hanging, url))
    commits = ProcessCommits(opener, SqlStore.open(url), writer_from=0)
    commits.commit(batch(1), background=True)
    print(commits.process.pid, commits.spool, flush=True)
    time.sleep(600)


def test_a_commit_under_way_does_not_land_after_its_worker_died(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'twin.db'}"
    SqlStore.open(url).close()  # migrated
    with a_worker_part("hold_a_commit", url) as (_worker, pid, spool):
        writer = psutil.Process(pid)
        time.sleep(3)  # the writer opens the store and begins the commit
    assert gone(writer, within_s=5), "the writer went on with its commit"
    assert not os.path.exists(spool), "the writer removes the spool when its worker is gone"
    store = SqlStore.open(url)
    assert store.load_offsets("g") == {}
    store.close()


def steps(worker: Worker, count: int) -> None:
    for _ in range(count):
        worker.step()


def writer_of(pid: int, log: Path) -> psutil.Process:
    """The store writer process of the worker `pid`, once it has committed (from its log)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = log.read_text()
        found = re.search(r"store writer process (\d+) started", text)
        if found and ": assigned {" in text:  # its partitions (not the settings line's membership)
            return psutil.Process(int(found.group(1)))
        assert psutil.pid_exists(pid), text[-3000:]
        time.sleep(0.05)
    raise AssertionError("the worker started no store writer")


HELD: list[ProcessCommits] = []


def exit_without_close(url: str) -> None:
    """A worker's part whose loop raised: it exits without closing its commits, still held
    (by the traceback, in a real worker)."""
    commits = ProcessCommits(StoreOpener(partial(SqlStore.open, url)), SqlStore.open(url))
    HELD.append(commits)
    commits.commit(batch(1), background=True)
    print(commits.process.pid, commits.spool, flush=True)
    raise SystemExit(3)


def test_a_worker_exiting_without_close_is_not_held_by_its_writer(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'twin.db'}"
    SqlStore.open(url).close()  # migrated
    with a_worker_part("exit_without_close", url) as (worker, pid, spool):
        assert worker.wait(timeout=60) == 3
    with contextlib.suppress(psutil.NoSuchProcess):  # else gone already
        assert gone(psutil.Process(pid), within_s=5)
    assert not os.path.exists(spool)
    store = SqlStore.open(url)
    assert store.load_offsets("g") == {("t", 0): 1}, "the commit under way finished"
    store.close()

"""The job lease on its own, on both job tables (replay and what-if), on SQLite and PostgreSQL.

A lease is renewed only for its owner's pending jobs; a pending job whose heartbeat is older
than the lease (or missing) fails with the table's reason while live and finished jobs stay as
they are; a stopping owner fails only its own jobs; a move names the status it expects (and the
owner, when given); the heartbeat thread renews the owner's jobs every quarter lease and fails
the dead owners', until it is stopped (abandoned: the owner's pending jobs fail with the reason).
"""

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select

from api import replay_runner, whatif_jobs
from api.store.db import make_engine
from api.store.job_leases import JobLeases, LeaseHeartbeat, new_owner_id
from api.store.sql_store import SqlStore, utc_now

ME = "this-host:1:aaaaaaaaaaaa"
OTHER = "other-host:2:bbbbbbbbbbbb"


def replay_row(job_id: str, created: datetime) -> dict[str, Any]:
    return {"id": job_id, "filename": "t.jsonl", "seed": None, "scenario": {}}


def whatif_row(job_id: str, created: datetime) -> dict[str, Any]:
    return {
        "id": job_id,
        "name": "lease test",
        "now": created,
        "hours": 1,
        "replications": 2,
        "scenario": {},
        "holds": [],
    }


TABLES: dict[str, tuple[JobLeases, Callable[[str, datetime], dict[str, Any]]]] = {
    "replay": (replay_runner.LEASES, replay_row),
    "whatif": (whatif_jobs.LEASES, whatif_row),
}


@pytest.fixture(params=list(TABLES))
def leases(request: pytest.FixtureRequest, store: SqlStore) -> "Jobs":
    """One job table's leases, with a way to add and read its rows."""
    job_leases, row = TABLES[request.param]
    return Jobs(store.engine, job_leases, row)


class Jobs:
    """Rows of one job table, written and read straight through SQL."""

    def __init__(
        self, engine: Engine, leases: JobLeases, row: Callable[[str, datetime], dict[str, Any]]
    ) -> None:
        self.engine = engine
        self.leases = leases
        self.row = row

    def add(self, job_id: str, status: str, owner: str | None, beat_s_ago: float | None) -> None:
        """A job of `owner` that last renewed its lease `beat_s_ago` seconds ago (None: never)."""
        now = utc_now()
        beat = None if beat_s_ago is None else now - timedelta(seconds=beat_s_ago)
        values = {**self.row(job_id, now), "status": status, "created_at": now}
        values |= {"owner": owner, "heartbeat_at": beat}
        with self.engine.begin() as connection:
            connection.execute(insert(self.leases.table), values)

    def read(self, job_id: str) -> dict[str, Any]:
        """A job's status, error, finish and heartbeat."""
        jobs = self.leases.table
        columns = (jobs.c.status, jobs.c.error, jobs.c.finished_at, jobs.c.heartbeat_at)
        with self.engine.connect() as connection:
            return dict(
                connection.execute(select(*columns).where(jobs.c.id == job_id)).mappings().one()
            )


def test_renew_touches_only_the_owners_pending_jobs_named(leases: Jobs) -> None:
    for job_id, status, owner in [
        ("mine-queued", "queued", ME),
        ("mine-running", "running", ME),
        ("mine-unnamed", "queued", ME),
        ("mine-done", "done", ME),
        ("theirs", "queued", OTHER),
    ]:
        leases.add(job_id, status, owner, beat_s_ago=30.0)
    before = utc_now()
    named = ["mine-queued", "mine-running", "mine-done", "theirs"]
    assert leases.leases.renew(leases.engine, ME, named) == 2
    assert leases.leases.renew(leases.engine, ME, []) == 0
    beats = {job_id: leases.read(job_id)["heartbeat_at"] for job_id in [*named, "mine-unnamed"]}
    assert beats["mine-queued"] >= before
    assert beats["mine-running"] >= before
    for untouched in ("mine-done", "theirs", "mine-unnamed"):
        assert beats[untouched] < before, untouched


def test_an_expired_lease_fails_its_job_with_the_reason_and_nothing_else(leases: Jobs) -> None:
    leases.add("dead-running", "running", OTHER, beat_s_ago=30.0)
    leases.add("dead-queued", "queued", OTHER, beat_s_ago=30.0)
    leases.add("live", "running", OTHER, beat_s_ago=1.0)
    leases.add("finished-long-ago", "done", OTHER, beat_s_ago=600.0)
    assert leases.leases.fail_expired(leases.engine, lease_s=10.0) == 2
    for job_id in ("dead-running", "dead-queued"):
        job = leases.read(job_id)
        assert job["status"] == "failed"
        assert "no heartbeat for 10 s" in job["error"]
        assert job["finished_at"] is not None
    assert leases.read("live")["status"] == "running"
    finished = leases.read("finished-long-ago")
    assert (finished["status"], finished["error"]) == ("done", None)
    assert leases.leases.fail_expired(leases.engine, lease_s=10.0) == 0  # failed once only


def test_a_replay_job_from_before_leases_counts_as_expired(store: SqlStore) -> None:
    jobs = Jobs(store.engine, replay_runner.LEASES, replay_row)
    jobs.add("before-leases", "queued", owner=None, beat_s_ago=None)
    assert jobs.leases.fail_expired(store.engine, lease_s=3600.0) == 1
    assert jobs.read("before-leases")["status"] == "failed"


def test_a_stopping_owner_fails_only_its_own_jobs(leases: Jobs) -> None:
    leases.add("mine-queued", "queued", ME, beat_s_ago=0.0)
    leases.add("mine-running", "running", ME, beat_s_ago=0.0)
    leases.add("mine-queued-unnamed", "queued", ME, beat_s_ago=0.0)
    leases.add("theirs", "queued", OTHER, beat_s_ago=0.0)
    own = leases.leases.fail_own

    def statuses() -> list[str]:
        names = ("mine-queued", "mine-running", "mine-queued-unnamed", "theirs")
        return [leases.read(job_id)["status"] for job_id in names]

    assert own(leases.engine, ME, "stopping", job_ids=[]) == 0
    assert own(leases.engine, ME, "stopping", job_ids=["mine-queued", "theirs"]) == 1
    assert statuses() == ["failed", "running", "queued", "queued"]
    assert own(leases.engine, ME, "stopping", statuses=["queued"]) == 1
    assert statuses() == ["failed", "running", "failed", "queued"]
    assert leases.read("mine-queued-unnamed")["error"] == "stopping"
    assert own(leases.engine, ME, "stopping") == 1  # every pending one: the running one
    assert statuses() == ["failed", "failed", "failed", "queued"]


def test_a_move_names_the_status_it_expects_and_the_owner(leases: Jobs) -> None:
    leases.add("job", "queued", ME, beat_s_ago=0.0)
    move = leases.leases.move
    assert not move(leases.engine, "job", ["running"], status="done")
    assert not move(leases.engine, "job", ["queued"], owned_by=OTHER, status="running")
    assert move(leases.engine, "job", ["queued"], owned_by=ME, status="running")
    assert move(leases.engine, "job", ["queued", "running"], status="failed", error="why")
    assert not move(leases.engine, "job", ["running"], status="done")  # a failed job stays so
    assert leases.read("job")["status"] == "failed"
    assert not move(leases.engine, "no-such-job", ["queued"], status="running")


LEASE_S = 2.0


def test_the_heartbeat_renews_its_owners_jobs_and_fails_the_dead_until_stopped(
    leases: Jobs,
) -> None:
    owner = new_owner_id()
    leases.add("mine", "running", owner, beat_s_ago=0.0)
    leases.add("dead", "running", OTHER, beat_s_ago=60.0)
    # a lease of 2 s, renewed every 0.5 s: a loaded machine may hold the renewing thread back
    # for a second (a lease of 0.4 s once expired under the whole suite at load 10)
    heartbeat = LeaseHeartbeat(
        leases.leases, leases.engine, owner, LEASE_S, lambda: ["mine"], "test"
    )
    heartbeat.start()
    try:
        assert leases.read("dead")["status"] == "failed"  # at once, at start
        time.sleep(LEASE_S * 1.5)  # longer than a lease: renewed, it does not expire
        assert leases.leases.fail_expired(leases.engine, lease_s=LEASE_S) == 0
        assert leases.read("mine")["status"] == "running"
    finally:
        heartbeat.stop()
    renewed = leases.read("mine")["heartbeat_at"]
    assert renewed > utc_now() - timedelta(seconds=LEASE_S)
    time.sleep(LEASE_S / 2)  # two renewal periods
    assert leases.read("mine")["heartbeat_at"] == renewed  # stopped: no more renewals
    time.sleep(LEASE_S * 0.75)  # a lease and a quarter since the last renewal, at least
    assert leases.leases.fail_expired(leases.engine, lease_s=LEASE_S) == 1  # and so it expires
    assert leases.read("mine")["status"] == "failed"


def test_the_heartbeat_goes_on_when_the_database_is_away(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'no-such-dir' / 'store.db'}")
    try:
        heartbeat = LeaseHeartbeat(replay_runner.LEASES, engine, ME, 0.4, lambda: ["x"], "test")
        heartbeat.tend()  # logged, not raised: the service goes on and /ready reports it
        heartbeat.abandon("stopping")  # logged, not raised: the leases expire instead
    finally:
        engine.dispose()
    assert "test leases not renewed: OperationalError" in caplog.text
    assert "pending test jobs not failed at stop: OperationalError" in caplog.text


def test_an_abandoning_heartbeat_stops_and_fails_only_its_owners_pending_jobs(
    leases: Jobs,
) -> None:
    owner = new_owner_id()
    for job_id, status, who in [
        ("mine-queued", "queued", owner),
        ("mine-running", "running", owner),
        ("mine-done", "done", owner),
        ("theirs", "running", OTHER),
    ]:
        leases.add(job_id, status, who, beat_s_ago=0.0)
    heartbeat = LeaseHeartbeat(leases.leases, leases.engine, owner, LEASE_S, list, "test")
    heartbeat.start()
    heartbeat.abandon("stopping: ask again")
    assert "test-lease" not in {thread.name for thread in threading.enumerate()}  # stopped
    for job_id in ("mine-queued", "mine-running"):
        job = leases.read(job_id)
        assert (job["status"], job["error"]) == ("failed", "stopping: ask again")
        assert job["finished_at"] is not None
    assert leases.read("mine-done")["status"] == "done"
    assert leases.read("theirs")["status"] == "running"

"""What-if jobs live in the store: they answer after an API restart and from another replica, a
job interrupted by a restart or by its owner's death is failed with the reason (never left
running), and the job limit counts every replica's jobs. On SQLite and PostgreSQL.
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta
from typing import Any

import httpx
import psutil
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.store import whatif_jobs_table as jobs
from api.store.sql_store import SqlStore
from api.store.whatif_jobs_table import WhatIfJobRow, utc_now
from api.whatif_jobs import STOPPED
from corridor.scenario import DEFAULT_START
from corridor.traffic.generator import generate
from stations.spec import load_all_stations
from tests.api_fixtures import TEST_KEY, free_port, test_settings
from tests.test_api_cli import LAUNCH
from tests.test_api_forecast import archive
from tests.test_api_whatif import SAME, wait_for_whatif
from tests.worker_processes import gone

KEY = {"X-API-Key": TEST_KEY}
STOP_WITHIN_S = 10.0  # a loaded machine's stop; the what-if it ends runs 15-20 s on a quiet one
QUICK = {"name": "same yard", "scenario": SAME, "hours": 1, "replications": 2}


@pytest.fixture
def archived(store: SqlStore) -> SqlStore:
    archive(store, list(generate(load_all_stations(), days=1, seed=4, start=DEFAULT_START)))
    return store


@contextmanager
def api(store: SqlStore, database_url: str, **changes: Any) -> Iterator[TestClient]:
    """One API process (its lifespan: lease tending, the forecast process) on the store."""
    values: dict[str, Any] = {"forecast_seed": 4, "forecast_workers": 1, **changes}
    with TestClient(create_app(test_settings(database_url, **values), store=store)) as client:
        yield client


def pending_row(owner: str, heartbeat_age_s: float, status: str = "running") -> WhatIfJobRow:
    beat = utc_now() - timedelta(seconds=heartbeat_age_s)
    return WhatIfJobRow(
        id=f"00000000-0000-4000-8000-{int(heartbeat_age_s):012d}",
        status=status,
        name="left behind",
        now=beat,
        hours=1,
        replications=2,
        scenario={},
        holds=[],
        created_at=beat,
        owner=owner,
        heartbeat_at=beat,
    )


def test_a_finished_whatif_answers_from_another_replica_and_after_a_restart(
    archived: SqlStore, database_url: str
) -> None:
    with api(archived, database_url) as first, api(archived, database_url) as second:
        started = first.post("/whatif", json=QUICK, headers=KEY)
        assert started.status_code == 202, started.text
        job_id = started.json()["id"]
        done = wait_for_whatif(first, job_id)
        assert done["status"] == "done", done
        assert second.get(f"/whatif/{job_id}").json() == done  # the other replica answers
    with api(archived, database_url) as restarted:
        assert restarted.get(f"/whatif/{job_id}").json() == done
        page = restarted.get(f"/whatif/{job_id}/report.html")
        assert page.status_code == 200
        assert "same yard" in page.text


def test_a_graceful_stop_leaves_no_job_pending(archived: SqlStore, database_url: str) -> None:
    with api(archived, database_url, whatif_max_jobs=2) as first:
        ids = [first.post("/whatif", json=QUICK, headers=KEY).json()["id"] for _ in range(2)]
    with api(archived, database_url) as restarted:
        finished = [restarted.get(f"/whatif/{job_id}").json() for job_id in ids]
    for job in finished:  # ran to its end while the API stopped, or failed saying why
        assert job["status"] == "done" or "interrupted" in job["error"], job


def test_a_stopping_api_ends_its_running_whatif_at_once(
    archived: SqlStore, database_url: str
) -> None:
    """A what-if of minutes under way when the API stops: the stop takes seconds, not the job's
    length, the job is failed saying why, and its job process and forked replications are
    gone."""
    before = {child.pid for child in psutil.Process().children()}
    with api(archived, database_url) as client:
        long = {**QUICK, "hours": 24, "replications": 32}  # minutes of work
        job_id = client.post("/whatif", json=long, headers=KEY).json()["id"]
        wait_until(lambda: client.get(f"/whatif/{job_id}").json()["status"] == "running")
        running = job_processes(before)
        assert running, "no job process found"
        stopping = time.monotonic()
    stop_s = time.monotonic() - stopping
    assert stop_s < STOP_WITHIN_S, f"the stop took {stop_s:.1f} s: it waited for the what-if"
    assert all(gone(process, within_s=10) for process in running), "a job process outlived it"
    with api(archived, database_url) as restarted:
        job = restarted.get(f"/whatif/{job_id}").json()
    assert job["status"] == "failed", job
    assert job["error"] == STOPPED
    assert job["result"] is None


def job_processes(before: set[int]) -> list[psutil.Process]:
    """This process's job processes started since `before` (not multiprocessing's resource
    tracker), with the replications they forked."""
    started = [
        child
        for child in psutil.Process().children()
        if child.pid not in before and "spawn_main" in " ".join(child.cmdline())
    ]
    return [*started, *(fork for child in started for fork in child.children(recursive=True))]


@pytest.mark.slow
def test_a_job_whose_api_was_killed_is_failed_with_the_reason(
    archived: SqlStore, database_url: str
) -> None:
    """`corridor api` killed (-9) mid-job, its job process and the replications that forked
    gone with it; the next API process fails the job once its lease has expired, saying why."""
    port = free_port()
    env = {
        **os.environ,
        "CORRIDOR_API_API_KEY": TEST_KEY,
        "CORRIDOR_DATABASE_URL": database_url,
        "CORRIDOR_API_FORECAST_SEED": "4",
        "CORRIDOR_API_FORECAST_WORKERS": "2",  # forked replications (one worker: in-process)
        "CORRIDOR_API_WHATIF_LEASE_S": "2",
    }
    server = subprocess.Popen(
        [sys.executable, "-c", LAUNCH, "api", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, for the clean-up below
    )
    base = f"http://127.0.0.1:{port}"
    children: list[psutil.Process] = []
    try:
        wait_until(lambda: httpx.get(f"{base}/health", timeout=1).status_code == 200)
        long = {**QUICK, "hours": 24, "replications": 32}  # minutes of work
        job_id = httpx.post(f"{base}/whatif", json=long, headers=KEY, timeout=30).json()["id"]
        wait_until(lambda: httpx.get(f"{base}/whatif/{job_id}").json()["status"] == "running")
        api_process = psutil.Process(server.pid)
        # a replication forked by the job process is in the tree too; one this short would also
        # end by itself, so `test_forecast_process_exit` proves the kill with an endless one
        wait_until(lambda: any(job.children() for job in api_process.children()))
        children = api_process.children(recursive=True)
        server.kill()  # the API process alone: its job process goes by itself
        server.wait(timeout=30)
        # then multiprocessing's resource tracker, removing the pool's semaphores
        assert all(gone(child, within_s=10) for child in children), "a job outlived it"
    finally:
        with suppress(ProcessLookupError):  # what is left, if the test failed
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=30)
    with api(archived, database_url, whatif_lease_s=2.0) as restarted:
        wait_until(lambda: restarted.get(f"/whatif/{job_id}").json()["status"] == "failed")
        job = restarted.get(f"/whatif/{job_id}").json()
    assert "interrupted: the API process running it stopped (no heartbeat for 2 s)" in job["error"]
    assert job["result"] is None
    assert job["finished_at"] is not None


def wait_until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"not so after {timeout} s")


def test_a_dead_owners_jobs_fail_once_their_lease_expires_and_no_live_one_does(
    archived: SqlStore, database_url: str
) -> None:
    dead = pending_row("crashed-host:4242:0123456789ab", heartbeat_age_s=600)
    alive = pending_row("other-replica:77:ba9876543210", heartbeat_age_s=1, status="queued")
    jobs.insert(archived.engine, dead)
    jobs.insert(archived.engine, alive)
    with api(archived, database_url, whatif_lease_s=60.0) as restarted:
        failed = restarted.get(f"/whatif/{dead.id}").json()
        kept = restarted.get(f"/whatif/{alive.id}").json()
    assert failed["status"] == "failed"
    assert "no heartbeat for 60 s" in failed["error"]
    assert kept["status"] == "queued"  # another replica's live job is left alone


def test_the_job_limit_counts_every_replicas_jobs(archived: SqlStore, database_url: str) -> None:
    jobs.insert(archived.engine, pending_row("other-replica:77:ba9876543210", heartbeat_age_s=1))
    with api(archived, database_url, whatif_max_jobs=1) as client:
        busy = client.post("/whatif", json=QUICK, headers=KEY)
    assert busy.status_code == 503
    assert "at most 1" in busy.json()["detail"]
    assert busy.headers["Retry-After"]

"""Replay jobs belong to the API process that runs them, for as long as it renews its lease.

Against the real databases: a runner leaves another live process's jobs alone and fails a
dead owner's once the lease has expired. Then two real API processes (uvicorn subprocesses)
on one PostgreSQL database, with jobs queued in both: every job ends `done` with no error.
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from sqlalchemy import insert, select

from api.replay_runner import JOBS, ReplayRunner
from api.store.sql_store import SqlStore, utc_now
from corridor.contract.eventlog import write_log
from corridor.scenario import DEFAULT_START
from corridor.traffic.generator import generate
from stations.spec import load_all_stations
from tests.api_fixtures import TEST_KEY, free_port
from tests.worker_processes import gone

KEY = {"X-API-Key": TEST_KEY}
ROOT = Path(__file__).resolve().parent.parent


def job_row(
    job_id: str, status: str, owner: str | None, beat_s_ago: float | None
) -> dict[str, Any]:
    """A replay_jobs row whose owner last renewed its lease `beat_s_ago` seconds ago."""
    now = utc_now()
    return {
        "id": job_id,
        "status": status,
        "filename": "t.jsonl",
        "seed": None,
        "scenario": {},
        "created_at": now,
        "owner": owner,
        "heartbeat_at": None if beat_s_ago is None else now - timedelta(seconds=beat_s_ago),
    }


def statuses(store: SqlStore) -> dict[str, tuple[str, str | None]]:
    """Every job's (status, error)."""
    with store.engine.connect() as connection:
        rows = connection.execute(select(JOBS.c.id, JOBS.c.status, JOBS.c.error))
        return {row.id: (row.status, row.error) for row in rows}


def test_live_jobs_are_left_alone_and_a_dead_owners_fail_after_the_lease(
    store: SqlStore, tmp_path: Path
) -> None:
    rows = [
        job_row("live-running", "running", "other-host:1:aaaa", 0.0),
        job_row("live-queued", "queued", "other-host:1:aaaa", 0.0),
        job_row("dead-running", "running", "gone-host:2:bbbb", 30.0),
        job_row("before-leases", "queued", None, None),
        job_row("finished", "done", "gone-host:2:bbbb", 30.0),
    ]
    with store.engine.begin() as connection:
        connection.execute(insert(JOBS), rows)
    runner = ReplayRunner(store.engine, tmp_path / "spool", workers=1, lease_s=2.0)
    runner.start()
    try:
        at_start = statuses(store)
        time.sleep(2.0 + 1.0)  # the live owner (not really running) stops renewing
        later = statuses(store)
    finally:
        runner.stop()
    assert at_start["live-running"] == ("running", None)
    assert at_start["live-queued"] == ("queued", None)
    assert at_start["dead-running"][0] == at_start["before-leases"][0] == "failed"
    assert "no heartbeat for 2 s" in (at_start["dead-running"][1] or "")
    assert at_start["finished"] == ("done", None)
    assert later["live-running"][0] == later["live-queued"][0] == "failed"
    assert later["finished"] == ("done", None)


@pytest.fixture(scope="module")
def small_log(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A quarter of a generated day at the three yards, as JSONL bytes."""
    path = tmp_path_factory.mktemp("log") / "traffic.jsonl"
    write_log(generate(load_all_stations(), days=1, seed=11, start=DEFAULT_START), path)
    lines = path.read_bytes().splitlines(keepends=True)
    return b"".join(lines[: len(lines) // 4])


def start_api(database_url: str, tmp_path: Path, name: str) -> tuple[subprocess.Popen[str], str]:
    """`uvicorn api.app:create_app --factory` as its own process; (process, base URL)."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CORRIDOR_API_API_KEY": TEST_KEY,
        "CORRIDOR_DATABASE_URL": database_url,
        "CORRIDOR_API_REPLAY_LEASE_S": "2",  # jobs wait in the queue much longer than this
    }
    command = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory"]
    command += ["--port", str(port), "--log-level", "warning"]
    with (tmp_path / f"{name}.log").open("w") as log:  # the child keeps its own descriptor
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError(f"{name} did not start: {(tmp_path / f'{name}.log').read_text()}")


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    """The API processes a test starts, stopped at the end."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    for process in started:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


def submit(url: str, log: bytes, seed: int) -> str:
    """Queue a replay on the API at `url`; its job id."""
    files = {"log": ("traffic.jsonl", log, "application/octet-stream")}
    response = httpx.post(f"{url}/replays", files=files, data={"seed": str(seed)}, headers=KEY)
    assert response.status_code == 202, response.text
    job_id: str = response.json()["id"]
    return job_id


def wait_all(url: str, job_ids: list[str], timeout: float = 300.0) -> dict[str, dict[str, Any]]:
    """Poll until every job is done or failed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = {job_id: httpx.get(f"{url}/replays/{job_id}").json() for job_id in job_ids}
        if all(job["status"] in ("done", "failed") for job in jobs.values()):
            return jobs
        time.sleep(0.5)
    raise AssertionError(f"jobs still pending after {timeout} s")


@pytest.mark.slow
@pytest.mark.postgres
def test_two_api_processes_on_one_database_finish_every_job(
    postgres_url: str,
    small_log: bytes,
    tmp_path: Path,
    processes: list[subprocess.Popen[str]],
) -> None:
    first, first_url = start_api(postgres_url, tmp_path, "first")
    processes.append(first)
    queued_first = [submit(first_url, small_log, seed) for seed in (1, 2, 3)]
    second, second_url = start_api(postgres_url, tmp_path, "second")  # starts beside them
    processes.append(second)
    queued_second = [submit(second_url, small_log, seed) for seed in (4, 5)]
    jobs = wait_all(second_url, queued_first + queued_second)
    every = queued_first + queued_second
    outcome = {job_id: (job["status"], job["error"]) for job_id, job in jobs.items()}
    assert outcome == dict.fromkeys(every, ("done", None))
    assert [jobs[job_id]["seed"] for job_id in every] == [1, 2, 3, 4, 5]


@pytest.mark.slow
@pytest.mark.postgres
def test_a_killed_processes_jobs_fail_once_its_lease_expires(
    postgres_url: str,
    small_log: bytes,
    tmp_path: Path,
    processes: list[subprocess.Popen[str]],
) -> None:
    doomed, doomed_url = start_api(postgres_url, tmp_path, "doomed")
    processes.append(doomed)
    survivor, survivor_url = start_api(postgres_url, tmp_path, "survivor")
    processes.append(survivor)
    orphans = [submit(doomed_url, small_log, seed) for seed in (1, 2)]
    children = job_processes_of(doomed.pid)
    doomed.kill()  # no goodbye: its jobs stay queued or running until the lease expires
    doomed.wait(timeout=30)
    jobs = wait_all(survivor_url, orphans, timeout=60)
    assert [job["status"] for job in jobs.values()] == ["failed", "failed"]
    assert all("no heartbeat for 2 s" in job["error"] for job in jobs.values())
    # its job processes go with it, and then multiprocessing's resource tracker, which
    # removes their semaphores from /dev/shm (`api.job_processes`)
    left = [child for child in children if not gone(child, within_s=10)]
    assert not left, [" ".join(child.cmdline())[-80:] for child in left]


def job_processes_of(pid: int) -> list[psutil.Process]:
    """The processes of the API process `pid` once its replay pool has started: the job
    processes and multiprocessing's resource tracker."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        children = psutil.Process(pid).children(recursive=True)
        if any("spawn_main" in " ".join(child.cmdline()) for child in children):
            return children
        time.sleep(0.1)
    raise AssertionError("the API process started no job process")

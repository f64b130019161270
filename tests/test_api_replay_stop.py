"""Replay jobs end with the API: a stopping API fails its running and queued replays saying why
and ends their process at once (not after the replay), and an API killed with -9 takes its job
process along. On SQLite and PostgreSQL, through the real API and store.
"""

import signal
import tempfile
import time
from pathlib import Path

import httpx
import psutil
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.replay_runner import STOPPED
from api.store.sql_store import SqlStore
from corridor.contract.eventlog import write_log
from corridor.scenario import DEFAULT_START
from corridor.traffic.generator import generate
from stations.spec import load_all_stations
from tests.api_fixtures import test_settings
from tests.test_api_leases import job_processes_of, start_api
from tests.test_api_replays import submit
from tests.test_api_whatif_jobs import job_processes, wait_until
from tests.worker_processes import gone

pytestmark = pytest.mark.slow
STOP_WITHIN_S = 5.0  # a loaded machine's stop; the replay it ends runs 15 s or more
GONE_WITHIN_S = 2.0
LOG_NAME = "traffic.jsonl.gz"
SPOOL = Path(tempfile.gettempdir()) / "corridor-replays"  # as `api.services` spools uploads


@pytest.fixture(scope="module")
def long_log(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """Twenty generated days at the three yards, gzipped JSONL: a replay of many seconds."""
    path = tmp_path_factory.mktemp("log") / LOG_NAME
    write_log(generate(load_all_stations(), days=20, seed=11, start=DEFAULT_START), path)
    return path.read_bytes()


def test_a_stopping_api_ends_its_replays_at_once(
    store: SqlStore, database_url: str, long_log: bytes
) -> None:
    """A replay under way and one queued behind it when the API stops: the stop takes seconds,
    not the replay's length, both jobs are failed saying why with no result, their job process
    is gone and their spooled logs too."""
    before = {child.pid for child in psutil.Process().children()}
    with TestClient(create_app(test_settings(database_url), store=store)) as client:
        running_id = submit(client, long_log, name=LOG_NAME).json()["id"]
        queued_id = submit(client, long_log, name=LOG_NAME).json()["id"]  # one worker: waits
        wait_until(lambda: client.get(f"/replays/{running_id}").json()["status"] == "running")
        wait_until(lambda: bool(job_processes(before)))
        running = job_processes(before)
        runner = client.app.state.services.replays  # type: ignore[attr-defined]
        spooled = [runner.spool_path(job_id, ".jsonl.gz") for job_id in (running_id, queued_id)]
        stopping = time.monotonic()
    stop_s = time.monotonic() - stopping
    assert stop_s < STOP_WITHIN_S, f"the stop took {stop_s:.1f} s: it waited for the replay"
    assert all(gone(process, within_s=GONE_WITHIN_S) for process in running), "it outlived it"
    with TestClient(create_app(test_settings(database_url), store=store)) as restarted:
        jobs = [restarted.get(f"/replays/{job_id}").json() for job_id in (running_id, queued_id)]
    for job in jobs:
        assert (job["status"], job["error"]) == ("failed", STOPPED), job
        assert job["result"] is None
        assert job["events"] is None
        assert job["finished_at"] is not None
    assert [path for path in spooled if path.exists()] == []


def test_a_killed_apis_replay_process_goes_with_it(
    long_log: bytes, tmp_path: Path, migrated_sqlite: Path
) -> None:
    """`uvicorn` serving the API killed (-9) mid-replay: its job process is gone within seconds
    (it watches the API process, `api.job_processes`), and the next API process on the store
    fails the job once its lease has expired, saying why."""
    database = tmp_path / "corridor.db"
    database.write_bytes(migrated_sqlite.read_bytes())
    url = f"sqlite:///{database}"
    doomed, doomed_url = start_api(url, tmp_path, "doomed")
    try:
        files = {"log": (LOG_NAME, long_log, "application/octet-stream")}
        headers = {"X-API-Key": test_settings(url).api_key.get_secret_value()}
        started = httpx.post(f"{doomed_url}/replays", files=files, headers=headers, timeout=60)
        job_id = started.json()["id"]
        wait_until(
            lambda: httpx.get(f"{doomed_url}/replays/{job_id}").json()["status"] == "running"
        )
        children = job_processes_of(doomed.pid)
    finally:
        doomed.kill()
        doomed.wait(timeout=30)
    left = [child for child in children if not gone(child, within_s=5)]
    assert not left, [" ".join(child.cmdline())[-80:] for child in left]
    survivor, survivor_url = start_api(url, tmp_path, "survivor")
    try:  # the survivor's lease is 2 s, like the doomed one's
        wait_until(
            lambda: httpx.get(f"{survivor_url}/replays/{job_id}").json()["status"] == "failed"
        )
        job = httpx.get(f"{survivor_url}/replays/{job_id}").json()
    finally:
        survivor.send_signal(signal.SIGINT)
        survivor.wait(timeout=60)
        # the log the killed API had spooled stays behind (docs/api.md): not this test's matter
        (SPOOL / f"{job_id}.jsonl.gz").unlink(missing_ok=True)
    assert "no heartbeat for 2 s" in job["error"]
    assert job["result"] is None

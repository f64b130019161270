"""Replay jobs: upload a log with a seed and scenario, get the KPI report back (API key needed).

The job runs the real engine and KPI code in a worker process; the same log and seed give the
same report, and what cannot be replayed is refused at once with the reason.
"""

import io
from typing import Any

import pytest
from fastapi.testclient import TestClient

from corridor.contract.eventlog import write_log
from corridor.scenario import DEFAULT_START
from corridor.traffic.generator import generate
from stations.spec import load_all_stations
from tests.api_fixtures import TEST_KEY, wait_for_job

pytestmark = pytest.mark.slow
KEY = {"X-API-Key": TEST_KEY}


@pytest.fixture(scope="module")
def small_log(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """Half a day of generated traffic at the three yards, as JSONL bytes."""
    stations = load_all_stations()
    path = tmp_path_factory.mktemp("log") / "traffic.jsonl"
    write_log(generate(stations, days=1, seed=11, start=DEFAULT_START), path)
    lines = path.read_bytes().splitlines(keepends=True)
    return b"".join(lines[: len(lines) // 2])


def submit(client: TestClient, body: bytes, name: str = "traffic.jsonl", **form: Any) -> Any:
    """POST /replays with the API key."""
    files = {"log": (name, io.BytesIO(body), "application/octet-stream")}
    return client.post("/replays", files=files, data=form, headers=KEY)


def test_a_replay_job_reports_kpis_and_is_deterministic(
    client: TestClient, small_log: bytes
) -> None:
    bad_line = b'{"type": "truck.dispatched", "event_id": "x"}\n'
    first = submit(client, small_log + bad_line, seed="5")
    assert first.status_code == 202
    assert first.headers["location"] == f"/replays/{first.json()['id']}"
    assert first.json()["status"] in ("queued", "running")
    done = wait_for_job(client, first.json()["id"])
    assert done["status"] == "done", done["error"]
    report = done["result"]["report"]
    assert report["run"]["seed"] == 5
    assert set(report["yards"]) == {"tuanjiecun", "xiaonanya", "yuzui"}
    assert report["corridor"]["trucks"] > 0
    assert done["rejected_lines"] == 1
    lines = small_log.count(b"\n")
    assert done["result"]["rejections"][0].startswith(f"line {lines + 1}:")
    assert done["events"] == lines
    again = wait_for_job(client, submit(client, small_log + bad_line, seed="5").json()["id"])
    assert again["result"] == done["result"]
    listed = client.get("/replays").json()
    assert [job["id"] for job in listed[:2]] == sorted(
        [again["id"], done["id"]], key=[again["id"], done["id"]].index
    )


def test_a_scenario_changes_the_replay(client: TestClient, small_log: bytes) -> None:
    scenario = (
        '{"stations": {"yuzui": {"gate": {"lanes": 1, "exception_lanes": 1}}}, "run": {"seed": 3}}'
    )
    job = wait_for_job(client, submit(client, small_log, scenario=scenario).json()["id"])
    baseline = wait_for_job(client, submit(client, small_log, seed="3").json()["id"])
    assert job["status"] == baseline["status"] == "done"
    assert job["result"]["report"]["run"]["seed"] == 3
    tight = job["result"]["report"]["yards"]["yuzui"]["gate_wait_min"]["mean"]
    roomy = baseline["result"]["report"]["yards"]["yuzui"]["gate_wait_min"]["mean"]
    assert tight > roomy


def test_a_log_without_events_fails_the_job_with_the_reason(client: TestClient) -> None:
    job = wait_for_job(client, submit(client, b"not json\n{}\n").json()["id"])
    assert job["status"] == "failed"
    assert "no valid event (2 rejected lines)" in job["error"]


@pytest.mark.parametrize(
    ("name", "form", "status", "message"),
    [
        ("traffic.csv", {}, 422, "must end with one of .jsonl"),
        ("traffic.jsonl", {"scenario": "{"}, 422, "scenario: not JSON"),
        ("traffic.jsonl", {"scenario": "[1]"}, 422, "expected a JSON object"),
        ("traffic.jsonl", {"scenario": '{"stations": {"chengdu": {}}}'}, 422, "chengdu"),
        (
            "traffic.jsonl",
            {"scenario": '{"stations": {"yuzui": {"gate": {"lanez": 2}}}}'},
            422,
            "lanez",
        ),
        ("traffic.jsonl", {"seed": "-1"}, 422, "greater than or equal to 0"),
    ],
)
def test_bad_uploads_are_refused_at_once(
    client: TestClient, name: str, form: dict[str, str], status: int, message: str
) -> None:
    response = submit(client, b"{}\n", name=name, **form)
    assert response.status_code == status
    assert message in response.text
    assert client.get("/replays").json() == []


def test_starting_a_replay_needs_the_api_key(client: TestClient) -> None:
    files = {"log": ("t.jsonl", io.BytesIO(b"{}\n"), "application/octet-stream")}
    missing = client.post("/replays", files=files)
    assert missing.status_code == 401
    assert "X-API-Key" in missing.json()["detail"]
    wrong = client.post("/replays", files=files, headers={"X-API-Key": "guess"})
    assert wrong.status_code == 403
    assert client.get("/replays").json() == []


def test_unknown_jobs_are_404(client: TestClient) -> None:
    response = client.get("/replays/0b5e0c4e-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert "no replay job" in response.json()["detail"]

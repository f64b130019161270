"""Hostile and careless input: every number within what the store holds, odd ids and text
refused with 4xx (never a 500), `Allow` and `HEAD` right, and a database that is down
answered with 503 JSON on every read."""

import io
import tempfile
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from corridor.contract.eventlog import write_log
from corridor.scenario import DEFAULT_START
from corridor.traffic.generator import generate
from stations.spec import load_all_stations
from tests.api_fixtures import TEST_KEY, LiveServer, free_port, test_settings, wait_for_job

KEY = {"X-API-Key": TEST_KEY}


def submit(client: TestClient, body: bytes = b"{}\n", **form: str) -> httpx.Response:
    """POST /replays with the key."""
    files = {"log": ("t.jsonl", io.BytesIO(body), "application/octet-stream")}
    return client.post("/replays", files=files, data=form, headers=KEY)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"seed": "3000000000"}, "body.seed: Input should be less than or equal to 2147483647"),
        ({"seed": "+8"}, "body.seed: Input should be a whole number"),
        ({"seed": "8.0"}, "body.seed: Input should be a whole number"),
        ({"scenario": '{"run": {"seed": 3000000000}}'}, "run.seed must be at most 2147483647"),
        ({"scenario": "[" * 5000 + "]" * 5000}, "nested deeper than 32 levels"),
        ({"scenario": '{"stations": {"yuzui": {"gate": {"lanes": 1e400}}}}'}, "not a finite"),
        ({"scenario": '{"run": {"seed": NaN}}'}, "NaN is not a number"),
        ({"scenario": '{"run": {"seed": ' + "9" * 30 + "}}"}, "does not fit 64 bits"),
    ],
)
def test_numbers_outside_what_the_store_holds_are_refused(
    client: TestClient, form: dict[str, str], message: str
) -> None:
    response = submit(client, **form)
    assert response.status_code == 422
    assert message in response.json()["detail"]
    assert client.get("/replays").json() == []


@pytest.fixture(scope="module")
def short_log(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The first 300 lines of a generated day at the three yards."""
    path = tmp_path_factory.mktemp("log") / "traffic.jsonl"
    write_log(generate(load_all_stations(), days=1, seed=11, start=DEFAULT_START), path)
    return b"".join(path.read_bytes().splitlines(keepends=True)[:300])


@pytest.mark.slow
def test_the_largest_seed_is_stored_and_the_job_ends_done(
    client: TestClient, short_log: bytes
) -> None:
    """The scenario's seed goes through the job's final update (3e9 overflowed it before)."""
    scenario = '{"run": {"seed": 2147483647}}'
    job = wait_for_job(client, submit(client, short_log, scenario=scenario).json()["id"])
    assert job["status"] == "done", job["error"]
    assert job["seed"] == 2147483647
    assert job["error"] is None


@pytest.mark.parametrize("path", ["/replays/a%00b", "/replays/a\u00e9b", "/replays/" + "f" * 36])
def test_odd_job_ids_are_refused_without_touching_the_database(
    client: TestClient, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 422
    assert "job_id" in response.json()["detail"]


@pytest.mark.parametrize(
    ("query", "status"),
    [("limit=8", 200), ("limit=+8", 422), ("limit=%208", 422), ("limit=0", 422)],
)
def test_limit_is_whole_digits_as_the_schema_says(
    client: TestClient, query: str, status: int
) -> None:
    assert client.get(f"/replays?{query}").status_code == status


@pytest.mark.parametrize("interval", ["1h\n", "1h ", "\n1h", "1h\r"])
def test_an_interval_with_trailing_or_leading_whitespace_is_refused(
    client: TestClient, interval: str
) -> None:
    response = client.get("/corridor/kpis/history", params={"interval": interval})
    assert response.status_code == 422
    assert "interval: expected a number and m, h or d" in response.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("POST", "/health", "GET, HEAD"),
        ("DELETE", "/yards", "GET, HEAD"),
        ("PUT", "/replays", "GET, HEAD, POST"),
        ("PATCH", "/yards/yuzui/kpis", "GET, HEAD"),
        ("POST", "/", "GET, HEAD"),
    ],
)
def test_a_405_says_what_is_allowed(client: TestClient, method: str, path: str, allow: str) -> None:
    response = client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.json()["detail"].endswith(f"allowed: {allow}")


@pytest.mark.parametrize("path", ["/health", "/ready", "/yards", "/yards/yuzui", "/replays", "/"])
def test_head_is_answered_wherever_get_is(live_server: LiveServer, path: str) -> None:
    with httpx.Client(base_url=live_server.url, headers=KEY, timeout=10) as client:
        get = client.get(path)
        head = client.head(path)
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]


def test_head_on_the_event_stream_ends(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url, timeout=10) as client:
        response = client.head("/stream/kpis")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")


READS = [
    "/yards",
    "/yards/yuzui",
    "/yards/yuzui/kpis",
    "/corridor/kpis",
    "/yards/yuzui/kpis/history",
    "/corridor/kpis/history",
    "/yards/yuzui/reefers",
    "/metrics",
    "/dead-letters",
    "/replays",
    "/replays/0b5e0c4e-0000-4000-8000-000000000000",
    "/stream/kpis",
]


@pytest.fixture(params=["postgres-closed-port", "sqlite-missing-directory"])
def unreachable_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL that cannot be reached (the shared server is left running)."""
    if request.param == "postgres-closed-port":
        return f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/corridor"
    return f"sqlite:///{tmp_path / 'gone' / 'corridor.db'}"


def test_every_read_is_a_503_in_json_while_the_database_is_down(
    unreachable_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # a replay spool of its own
    settings = test_settings(unreachable_url, migrate_on_start=False)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        for path in READS:
            response = client.get(path, headers=KEY)
            assert response.status_code == 503, (path, response.text)
            assert response.headers["content-type"] == "application/json", path
            assert "the database is unavailable" in response.json()["detail"], path
            assert int(response.headers["retry-after"]) > 0
        assert client.get("/ready").status_code == 503
        assert client.get("/health").status_code == 200
        refused = submit(client)
        assert refused.status_code == 503
        spool: Path = client.app.state.services.replays.spool  # type: ignore[attr-defined]
        assert not any(spool.glob("*.jsonl"))  # the spooled log went with the refusal

"""`POST /whatif` against the live yard, `GET /whatif/{id}` and its `report.html`.

The store holds what a worker archived; a what-if rebuilds the yards from it, runs baseline and
scenario with common random numbers and answers in the planner's comparison format. Needs the
API key; a bad scenario, horizon or replication count is refused at once with the reason; the
number of jobs at once is limited; an unknown job is a 404.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.store.sql_store import SqlStore
from corridor.contract.events import Event
from corridor.scenario import DEFAULT_START
from corridor.traffic.generator import generate
from stations.spec import load_all_stations
from tests.api_fixtures import TEST_KEY, test_settings, wait_for_job
from tests.test_api_forecast import archive

SEED = 4
KEY = {"X-API-Key": TEST_KEY}
SAME = {"stations": {"yuzui": {"handling": {"reach_stackers": 4}}}}  # yuzui has 4 already


@pytest.fixture(scope="module")
def history() -> list[Event]:
    """Two days of generated traffic, the same for every test (generated once)."""
    return list(generate(load_all_stations(), days=2, seed=SEED, start=DEFAULT_START))


@pytest.fixture
def whatif_client(store: SqlStore, database_url: str, history: list[Event]) -> Iterator[TestClient]:
    archive(store, history)
    settings = test_settings(
        database_url, forecast_seed=SEED, forecast_workers=1, whatif_max_jobs=1
    )
    with TestClient(create_app(settings, store=store)) as running:
        yield running


def wait_for_whatif(client: TestClient, job_id: str, timeout: float = 180.0) -> dict[str, Any]:
    return wait_for_job(client, job_id, timeout, kind="whatif")


def test_a_whatif_identical_to_the_live_yard_changes_nothing_and_has_a_report(
    whatif_client: TestClient,
) -> None:
    body = {"name": "same yard", "scenario": SAME, "hours": 2, "replications": 3}
    started = whatif_client.post("/whatif", json=body, headers=KEY)
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]
    assert started.headers["Location"] == f"/whatif/{job_id}"
    busy = whatif_client.post("/whatif", json=body, headers=KEY)  # one job at once here
    assert busy.status_code == 503
    assert "at most 1" in busy.json()["detail"]
    assert busy.headers["Retry-After"]
    job = wait_for_whatif(whatif_client, job_id)
    assert job["status"] == "done", job
    differences = job["result"]["differences"]
    assert {row["method"] for row in differences} == {"paired"}
    assert all(row["difference"] in (0.0, None) for row in differences)
    assert {row["scope"] for row in differences} == {
        "corridor",
        "tuanjiecun",
        "xiaonanya",
        "yuzui",
    }
    assert job["result"]["baseline"] == job["result"]["scenario"]
    page = whatif_client.get(f"/whatif/{job_id}/report.html")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "same yard" in page.text
    assert "<script" not in page.text
    toml = 'name = "x"\n[stations.yuzui.handling]\nreach_stackers = 4\n'
    again = whatif_client.post("/whatif", json={"scenario_toml": toml, "hours": 1}, headers=KEY)
    assert again.status_code == 202, again.text


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (
            {"scenario": {"stations": {"yuzui": {"handling": {"reach_stakers": 2}}}}},
            "reach_stakers",
        ),
        ({"scenario": {"stations": {"yuzui": {"gate": {"lanes": 0}}}}}, "lanes"),
        ({"scenario": SAME, "hours": 0}, "hours"),
        ({"scenario": SAME, "hours": 25}, "hours"),
        ({"scenario": SAME, "replications": 1}, "replications"),
        ({"scenario": SAME, "replications": 1000}, "replications"),
        ({"scenario": SAME, "scenario_toml": "x = 1"}, "either"),
        ({}, "either"),
        ({"scenario_toml": "[[["}, "not valid TOML"),
        ({"scenario": SAME, "surprise": 1}, "surprise"),
        ({"scenario_toml": "a = " + "[" * 20_000 + "]" * 20_000}, "nested deeper"),
        ({"scenario": {"stations": {"yuzui": {"x": "y" * 70_000}}}}, "longer than 65536"),
        ({"scenario": {"stations": {"yuzui": {"handling": {"reach_stackers": -3}}}}}, "at least"),
        ({"scenario": {"demand": {"yuzui": {"export": -2}}}}, "non-negative"),
        ({"scenario_toml": "[run]\nstart = 2099-01-01T00:00:00Z\n"}, "scenario.run"),
        ({"scenario_toml": "[stations.yuzui]\nwhen = 2099-01-01\n"}, "stations.yuzui.when"),
        ({"scenario": {"hold": [{"yard": "yuzui", "train": "next", "minutes": -30}]}},
         "hold[0].minutes"),
        ({"scenario": {"hold": [{"yard": "yuzui", "train": "next", "minutes": 1441}]}},
         "hold[0].minutes"),
        ({"scenario": {"hold": [{"yard": "mars", "train": "next", "minutes": 30}]}}, "mars"),
        ({"scenario": {"hold": {"yard": "yuzui"}}}, "expected a list"),
        ({"scenario": {"hold": [{"yard": "yuzui", "train": "NO-SUCH-TRAIN", "minutes": 30}]}},
         "'NO-SUCH-TRAIN' is not a departure announced at yuzui"),
    ],
)  # fmt: skip
def test_a_bad_whatif_is_refused_with_the_reason(
    whatif_client: TestClient, body: dict[str, Any], words: str
) -> None:
    answer = whatif_client.post("/whatif", json=body, headers=KEY)
    assert answer.status_code == 422, answer.text
    assert words in answer.json()["detail"]


def test_holding_the_next_train_names_it_and_the_report_shows_it(
    whatif_client: TestClient,
) -> None:
    hold = {"yard": "tuanjiecun", "train": "next", "minutes": 30}
    body = {"name": "hold 30 min", "scenario": {"hold": [hold]}, "hours": 8, "replications": 2}
    started = whatif_client.post("/whatif", json=body, headers=KEY)
    assert started.status_code == 202, started.text
    [held] = started.json()["holds"]
    assert held["yard"] == "tuanjiecun"
    assert held["minutes"] == 30
    train = held["train_id"]
    assert train.startswith("TJC-")  # "next" resolved to the train it means
    job = wait_for_whatif(whatif_client, started.json()["id"])
    assert job["status"] == "done", job
    [summary] = job["result"]["held_trains"]
    assert summary["train_id"] == train
    assert summary["held_min"] == 30
    assert summary["scenario"]["departure_delay_min"] >= 30.0
    assert summary["baseline"]["departure_delay_min"] < 30.0
    delays = [row for row in job["result"]["differences"]
              if row["kpi"] == f"held.{train}.departure_delay_min"]  # fmt: skip
    assert delays
    assert delays[0]["scope"] == "tuanjiecun"
    assert "Held trains" in job["result"]["markdown"]
    page = whatif_client.get(f"/whatif/{job['id']}/report.html")
    assert page.status_code == 200
    assert 'id="held-trains"' in page.text
    assert train in page.text


def test_a_whatif_needs_the_api_key_and_an_existing_job(whatif_client: TestClient) -> None:
    assert whatif_client.post("/whatif", json={"scenario": SAME}).status_code == 401
    wrong = {"X-API-Key": "not-the-key-at-all-123"}
    assert whatif_client.post("/whatif", json={"scenario": SAME}, headers=wrong).status_code in (
        401,
        403,
    )
    unknown = "00000000-0000-4000-8000-000000000000"
    assert whatif_client.get(f"/whatif/{unknown}").status_code == 404
    assert whatif_client.get(f"/whatif/{unknown}/report.html").status_code == 404
    assert whatif_client.get("/whatif/not-an-id").status_code == 422

"""`GET /yards/{yard}/forecast` and `/corridor/forecast`: computed from the worker's archive.

The store holds what a worker archived (generated days, as the worker stores them); the API
rebuilds the yards from it in its forecast process and answers per yard and for the corridor,
the same forecast for the same archive, with the horizon checked and no forecast before any
event is archived.
"""

from collections.abc import Iterator
from datetime import datetime, timedelta

import msgspec
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.forecasts import on_grid
from api.store.sql_store import SqlStore
from corridor.contract.events import Event
from corridor.scenario import DEFAULT_START
from corridor.store_contract import ArchivedEvent, TwinBatch
from corridor.traffic.generator import generate
from stations.spec import load_all_stations
from tests.api_fixtures import test_settings

SEED = 3
DAYS = 2


def archive(store: SqlStore, events: list[Event]) -> None:
    """Commit the events as a worker archives them, in batches."""
    encode = msgspec.json.encode
    for offset in range(0, len(events), 5000):
        chunk = events[offset : offset + 5000]
        store.commit(
            TwinBatch(
                group="corridor-twin",
                offsets={("corridor.events", 0): offset + len(chunk)},
                archived=[ArchivedEvent(e.event_id, e.yard, e.ts, encode(e)) for e in chunk],
            )
        )


@pytest.fixture
def forecast_client(store: SqlStore, database_url: str) -> Iterator[TestClient]:
    settings = test_settings(
        database_url,
        forecast_seed=SEED,
        forecast_replications=3,
        forecast_workers=2,  # the forecast process forks its replications
    )
    with TestClient(create_app(settings, store=store)) as running:
        yield running


@pytest.fixture(scope="module")
def days_of_events() -> list[Event]:
    return list(generate(load_all_stations(), days=DAYS, seed=SEED, start=DEFAULT_START))


def test_no_forecast_before_anything_is_archived(forecast_client: TestClient) -> None:
    answer = forecast_client.get("/corridor/forecast")
    assert answer.status_code == 404
    assert "no event" in answer.json()["detail"]


@pytest.mark.parametrize("hours", ["0", "25", "-3", "2.5", "x", "99999999999999999999"])
def test_a_horizon_outside_1_to_24_is_a_422_that_says_so(
    forecast_client: TestClient, hours: str
) -> None:
    for path in ("/corridor/forecast", "/yards/yuzui/forecast"):
        answer = forecast_client.get(path, params={"hours": hours})
        assert answer.status_code == 422, answer.text
        assert "hours" in answer.text


def test_an_unknown_yard_is_a_404(forecast_client: TestClient) -> None:
    answer = forecast_client.get("/yards/nowhere/forecast")
    assert answer.status_code == 404
    assert "unknown yard" in answer.json()["detail"]


def test_the_forecast_starts_from_the_archive_and_is_kept_per_step(
    forecast_client: TestClient, store: SqlStore, days_of_events: list[Event]
) -> None:
    archive(store, days_of_events)
    newest = max(event.ts for event in days_of_events)
    corridor = forecast_client.get("/corridor/forecast", params={"hours": 2})
    assert corridor.status_code == 200, corridor.text
    body = corridor.json()
    assert body["scope"] == "corridor"
    assert body["replications"] == 3
    assert body["horizon_h"] == 2
    start = on_grid(newest, 15)
    assert [datetime.fromisoformat(hour["start"]) for hour in body["hours"]] == [
        start + timedelta(hours=h) for h in range(2)
    ]
    for hour in body["hours"]:
        band = hour["turnaround_min"]
        assert 0 < band["p10"] <= band["p50"] <= band["p90"]
    assert body["boxes_over_24h"]["p50"] > 0
    yard = forecast_client.get("/yards/xiaonanya/forecast", params={"hours": 2}).json()
    assert yard["scope"] == "xiaonanya"
    assert yard["now"] == body["now"]
    assert yard["computed_at"] == body["computed_at"]  # one computation serves every scope
    queues = [h["gate_queue"]["p50"] for h in yard["hours"]]
    assert queues != [h["gate_queue"]["p50"] for h in body["hours"]] or all(q == 0 for q in queues)
    again = forecast_client.get("/corridor/forecast", params={"hours": 2}).json()
    assert again == body  # kept until the archive passes the next 15-minute step

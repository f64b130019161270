"""`GET /yards/{yard}/forecast` and `/corridor/forecast`: the worker's newest stored forecast.

The worker stores its forecasts (`api.store.forecasts`, over 24 h by default); the API serves
the newest, cut to `hours` (the boxes over 24 h at the end of that hour, the trains due before
it), per yard and for the corridor, with the event time it starts from and when it was
computed; before any is stored, or past its horizon, a 404 that says why; a horizon outside
1..24 is a 422. On SQLite and PostgreSQL.
"""

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import msgspec
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.store.sql_store import SqlStore
from corridor.contract.events import Event
from corridor.engine.snapshots import encode
from corridor.engine.twin import replay
from corridor.forecast.live_start import LiveForecastJob, run_live_forecast
from corridor.scenario import DEFAULT_START
from corridor.store_contract import ArchivedEvent, TwinBatch
from corridor.traffic.generator import generate
from stations.spec import load_all_stations
from tests.api_fixtures import test_settings

SEED = 3
NOW = DEFAULT_START + timedelta(days=1, hours=22)
HORIZON = 4


def archive(store: SqlStore, events: list[Event]) -> None:
    """Commit the events as a worker archives them, in batches (what-ifs start from these)."""
    encode_json = msgspec.json.encode
    for offset in range(0, len(events), 5000):
        chunk = events[offset : offset + 5000]
        store.commit(
            TwinBatch(
                group="corridor-twin",
                offsets={("corridor.events", 0): offset + len(chunk)},
                archived=[ArchivedEvent(e.event_id, e.yard, e.ts, encode_json(e)) for e in chunk],
            )
        )


def worker_forecast(now: datetime, hours: int, replications: int = 3) -> dict[str, Any]:
    """A forecast as the worker computes it: from the twin's snapshot at `now`."""
    stations = load_all_stations()
    events = list(generate(stations, days=2, seed=SEED, start=DEFAULT_START))
    twin = replay(events, stations, SEED, until=now)
    twin.advance_to(now)
    job = LiveForecastJob(encode(twin.snapshot()), stations, now, hours, replications)
    return run_live_forecast(job)


@pytest.fixture(scope="module")
def computed() -> dict[str, Any]:
    """The worker's forecast from NOW over 4 hours."""
    return worker_forecast(NOW, HORIZON)


@pytest.fixture
def forecast_client(store: SqlStore, database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(test_settings(database_url), store=store)) as running:
        yield running


def test_no_forecast_before_the_worker_stored_one(forecast_client: TestClient) -> None:
    for path in ("/corridor/forecast", "/yards/yuzui/forecast"):
        answer = forecast_client.get(path)
        assert answer.status_code == 404
        assert "no forecast yet" in answer.json()["detail"]


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


def test_the_stored_forecast_is_served_cut_to_the_hours_asked(
    forecast_client: TestClient, store: SqlStore, computed: dict[str, Any]
) -> None:
    store.put_forecast(computed, keep=4)
    whole = forecast_client.get("/corridor/forecast", params={"hours": HORIZON})
    assert whole.status_code == 200, whole.text
    body = whole.json()
    assert body["scope"] == "corridor"
    assert datetime.fromisoformat(body["now"]) == NOW
    assert datetime.fromisoformat(body["computed_at"]) == datetime.fromisoformat(
        computed["computed_at"]
    )
    assert body["horizon_h"] == HORIZON
    assert body["replications"] == 3
    assert body["hours"] == computed["corridor"]["hours"]
    assert body["boxes_over_24h"] == computed["corridor"]["boxes_over_24h"]
    for hours in range(1, HORIZON + 1):
        for scope, path in (("corridor", "/corridor/forecast"), ("yuzui", "/yards/yuzui/forecast")):
            part = computed["corridor"] if scope == "corridor" else computed["yards"][scope]
            cut = forecast_client.get(path, params={"hours": hours}).json()
            assert cut["scope"] == scope
            assert cut["horizon_h"] == hours
            assert cut["hours"] == part["hours"][:hours]
            assert cut["boxes_over_24h"] == part["boxes_over_24h_by_hour"][hours - 1]
            end = NOW + timedelta(hours=hours)
            due = [
                t for t in part["trains_at_risk"] if datetime.fromisoformat(t["departure"]) < end
            ]
            assert [t["train_id"] for t in cut["trains_at_risk"]] == [t["train_id"] for t in due]
    yard = forecast_client.get("/yards/xiaonanya/forecast", params={"hours": 2}).json()
    assert yard["now"] == body["now"]
    assert yard["computed_at"] == body["computed_at"]  # one forecast serves every scope


def test_past_the_stored_horizon_is_a_404_that_says_how_far_it_reaches(
    forecast_client: TestClient, store: SqlStore, computed: dict[str, Any]
) -> None:
    store.put_forecast(computed, keep=4)
    answer = forecast_client.get("/corridor/forecast", params={"hours": HORIZON + 1})
    assert answer.status_code == 404
    assert f"reach {HORIZON} h" in answer.json()["detail"]


def test_the_newest_forecast_is_served_and_only_the_newest_are_kept(
    forecast_client: TestClient, store: SqlStore, computed: dict[str, Any]
) -> None:
    for step in range(5):
        later = NOW + timedelta(minutes=15 * step)
        store.put_forecast({**computed, "now": later.isoformat()}, keep=3)
    body = forecast_client.get("/corridor/forecast", params={"hours": 1}).json()
    assert datetime.fromisoformat(body["now"]) == NOW + timedelta(minutes=60)
    with store.engine.connect() as connection:
        kept = connection.exec_driver_sql("SELECT count(*) FROM forecasts").scalar_one()
    assert kept == 3

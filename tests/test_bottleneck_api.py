"""`GET /yards/{yard}/bottleneck` on a real store (SQLite and PostgreSQL): a day at 团结村 with
one reach stacker, stored as the worker stores it, names the reach stackers; bad windows are
refused with a message (inverted, in the future, before the twin's first event, too long,
without an offset), and a yard without a live state is 404."""

import dataclasses
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.store.sql_store import SqlStore
from corridor.engine.twin import Twin, replay
from corridor.scenario import DEFAULT_START, parse_scenario
from corridor.store_contract import TwinBatch
from corridor.traffic.generator import generate

STARVED = {"name": "starved", "stations": {"tuanjiecun": {"handling": {"reach_stackers": 1}}}}


@pytest.fixture(scope="module")
def starved_day() -> Twin:
    """A day of the three yards with one reach stacker at 团结村, replayed."""
    stations = parse_scenario(STARVED).stations
    return replay(list(generate(stations, days=1, seed=5, start=DEFAULT_START)), stations, seed=5)


def stored(store: SqlStore, twin: Twin) -> None:
    states: list[Any] = [dataclasses.asdict(twin.state(yard)) for yard in twin.yards]
    store.commit(TwinBatch("g", {}, yard_states=states, records=twin.tables()))


def test_the_starved_reach_stacker_is_named(
    app: FastAPI, client: TestClient, store: SqlStore, starved_day: Twin
) -> None:
    app.state.services.stations = parse_scenario(STARVED).stations  # the yard as its file says
    stored(store, starved_day)
    clock = starved_day.clock("tuanjiecun")
    params = {"from": (clock - timedelta(hours=18)).isoformat(), "to": clock.isoformat()}
    response = client.get("/yards/tuanjiecun/bottleneck", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["bottleneck"] == "reach_stackers"
    loads = {load["resource"]: load for load in body["resources"]}
    assert list(loads) == [
        "gate", "exception_lane", "reach_stackers", "rmgs", "inspection_bays", "plugs", "tracks"
    ]  # fmt: skip
    assert loads["reach_stackers"]["capacity"] == 1
    assert loads["reach_stackers"]["utilisation"] > 0.9
    assert loads["reach_stackers"]["wait_mean_min"] > 60
    assert loads["rmgs"]["utilisation"] is None  # the store keeps no lifts
    other = client.get("/yards/yuzui/bottleneck", params={"from": params["from"]}).json()
    assert other["bottleneck"] != "reach_stackers"
    assert other["to"] == starved_day.clock("yuzui").isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize(
    ("start_h", "end_h", "message"),
    [
        (-2.0, -3.0, "must be before to"),
        (-2.0, 1.0, "the future is not known yet"),
        (-30.0, -1.0, "before the twin's first event"),
    ],
)
def test_bad_windows_are_refused(
    client: TestClient,
    store: SqlStore,
    starved_day: Twin,
    start_h: float,
    end_h: float,
    message: str,
) -> None:
    stored(store, starved_day)
    clock = starved_day.clock("tuanjiecun")
    params = {
        "from": (clock + timedelta(hours=start_h)).isoformat(),
        "to": (clock + timedelta(hours=end_h)).isoformat(),
    }
    response = client.get("/yards/tuanjiecun/bottleneck", params=params)
    assert response.status_code == 422
    assert message in response.json()["detail"]


def test_a_window_too_long_and_a_time_without_offset_are_refused(
    client: TestClient, store: SqlStore, starved_day: Twin
) -> None:
    stored(store, starved_day)
    clock = starved_day.clock("tuanjiecun")
    assert starved_day.epoch is not None
    state = dataclasses.asdict(starved_day.state("tuanjiecun"))
    state["clock"] = clock + timedelta(days=10)  # a twin that has run ten days
    store.commit(TwinBatch("g", {}, yard_states=[state]))
    long = {"from": clock.isoformat(), "to": (clock + timedelta(days=8)).isoformat()}
    response = client.get("/yards/tuanjiecun/bottleneck", params=long)
    assert response.status_code == 422
    assert "longer than 7 days" in response.json()["detail"]
    naive = client.get("/yards/tuanjiecun/bottleneck", params={"from": "2026-01-05T00:00:00"})
    assert naive.status_code == 422
    missing = client.get("/yards/tuanjiecun/bottleneck")
    assert missing.status_code == 422


def test_no_live_state_is_404_and_an_unknown_yard_too(client: TestClient) -> None:
    response = client.get("/yards/yuzui/bottleneck", params={"from": "2026-01-05T00:00:00Z"})
    assert response.status_code == 404
    assert "no live state of yuzui yet" in response.json()["detail"]
    unknown = client.get("/yards/chengdu/bottleneck", params={"from": "2026-01-05T00:00:00Z"})
    assert unknown.status_code == 404

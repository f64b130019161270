"""The reefers' time to breach through the API: the field, the most-urgent-first order, the
Prometheus gauges, and a migrated store that holds them (SQLite and PostgreSQL)."""

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.store.sql_store import SqlStore
from corridor.store_contract import TwinBatch
from tests.api_fixtures import T0, reefer_id, sample_reefer, sample_state
from tests.prometheus_text import by, value

BREACHES = {1: 0.0, 2: 35.5, 3: None, 4: 120.0}  # serial -> minutes to breach, all at yuzui


def batch() -> TwinBatch:
    reefers: list[dict[str, Any]] = [
        sample_reefer(
            "yuzui",
            serial,
            T0,
            minutes_to_breach=minutes,
            breach_at=None if minutes is None else T0 + timedelta(minutes=minutes),
        )
        for serial, minutes in BREACHES.items()
    ]
    reefers.append(sample_reefer("tuanjiecun", 5, T0))
    states = [sample_state(yard, T0) for yard in ("yuzui", "tuanjiecun")]
    return TwinBatch("corridor-twin", {}, yard_states=states, reefers=reefers)


def test_reefers_carry_their_time_to_breach(client: TestClient, store: SqlStore) -> None:
    store.commit(batch())
    body = client.get("/yards/yuzui/reefers").json()
    assert body["order"] == "container"
    got = {r["container_id"]: (r["minutes_to_breach"], r["breach_at"]) for r in body["reefers"]}
    assert got == {
        reefer_id(1): (0.0, "2026-01-05T00:00:00Z"),
        reefer_id(2): (35.5, "2026-01-05T00:35:30Z"),
        reefer_id(3): (None, None),
        reefer_id(4): (120.0, "2026-01-05T02:00:00Z"),
    }


def test_most_urgent_first(client: TestClient, store: SqlStore) -> None:
    store.commit(batch())
    body = client.get("/yards/yuzui/reefers", params={"order": "urgency"}).json()
    assert body["order"] == "urgency"
    assert [r["container_id"] for r in body["reefers"]] == [reefer_id(n) for n in (1, 2, 4, 3)]
    unplugged = client.get("/yards/yuzui/reefers", params={"order": "urgency", "status": "alarm"})
    assert unplugged.json()["reefers"] == []


def test_an_unknown_order_is_422(client: TestClient) -> None:
    response = client.get("/yards/yuzui/reefers", params={"order": "warmest"})
    assert response.status_code == 422
    assert "'container' or 'urgency'" in response.text


def test_metrics_give_the_least_time_to_breach_and_the_count_within_the_hour(
    client: TestClient, store: SqlStore
) -> None:
    store.commit(batch())
    text = client.get("/metrics").text
    assert "# TYPE corridor_reefer_min_minutes_to_breach gauge" in text
    least = by(text, "corridor_reefer_min_minutes_to_breach", "yard")
    assert least == {"yuzui": 0.0}  # tuanjiecun's one reefer is heading nowhere: no sample
    assert by(text, "corridor_reefers_breaching_within", "yard") == {
        "tuanjiecun": 0.0,
        "xiaonanya": 0.0,
        "yuzui": 2.0,
    }
    assert value(text, "corridor_reefers_breaching_within", yard="yuzui", within_min="60") == 2.0


@pytest.mark.parametrize("minutes", [59.9, 60.0])
def test_the_count_includes_the_bound(client: TestClient, store: SqlStore, minutes: float) -> None:
    one = sample_reefer("xiaonanya", 9, T0, minutes_to_breach=minutes, breach_at=T0)
    store.commit(TwinBatch("g", {}, yard_states=[sample_state("xiaonanya", T0)], reefers=[one]))
    text = client.get("/metrics").text
    assert value(text, "corridor_reefers_breaching_within", yard="xiaonanya", within_min="60") == 1

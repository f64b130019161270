"""`/stream/kpis`: server-sent events from a real uvicorn server, as a browser would read them."""

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from api.store.sql_store import SqlStore
from corridor.store_contract import KpiSnapshot, TwinBatch
from tests.api_fixtures import T0, LiveServer, corridor_batch, sample_kpis


def events(response: httpx.Response) -> Iterator[tuple[str, dict[str, Any], str | None]]:
    """(event name, data, id) of each server-sent event, comments (pings) skipped."""
    name, data, event_id = "message", "", None
    for line in response.iter_lines():
        if line == "":
            if data:
                yield name, json.loads(data), event_id
            name, data, event_id = "message", "", None
        elif line.startswith("event:"):
            name = line.partition(":")[2].strip()
        elif line.startswith("data:"):
            data += line.partition(":")[2].strip()
        elif line.startswith("id:"):
            event_id = line.partition(":")[2].strip()


def test_each_new_snapshot_is_pushed(live_server: LiveServer, store: SqlStore) -> None:
    store.commit(corridor_batch(T0))  # already there: not pushed again
    params = {"scope": ["yuzui", "corridor"], "window": "24h"}
    with (
        httpx.Client(base_url=live_server.url, timeout=15) as client,
        client.stream("GET", "/stream/kpis", params=params) as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = events(response)
        name, ready, _ = next(stream)
        assert name == "ready"
        assert ready["cursor"] == 16
        later = T0 + timedelta(hours=1)
        store.commit(corridor_batch(later, level=2.0))
        received = [next(stream) for _ in range(2)]
    assert [(n, d["scope"], d["window"], d["as_of"]) for n, d, _ in received] == [
        ("snapshot", "yuzui", "24h", "2026-01-05T01:00:00Z"),
        ("snapshot", "corridor", "24h", "2026-01-05T01:00:00Z"),
    ]
    assert received[0][1]["kpis"]["trucks"] == 200
    assert all(int(event_id or 0) > 16 for _, _, event_id in received)


def test_a_reconnecting_client_resumes_after_its_last_event(
    live_server: LiveServer, store: SqlStore
) -> None:
    snapshots = [
        KpiSnapshot("xiaonanya", "1h", T0 + timedelta(hours=h), T0, sample_kpis(h + 1.0))
        for h in range(3)
    ]
    store.commit(TwinBatch("g", {}, snapshots=snapshots))
    with httpx.Client(base_url=live_server.url, timeout=15) as client:
        headers = {"Last-Event-ID": "1"}
        with client.stream(
            "GET", "/stream/kpis", params={"scope": "xiaonanya"}, headers=headers
        ) as response:
            stream = events(response)
            assert next(stream)[1] == {"cursor": 1}
            resumed = [next(stream) for _ in range(2)]
    assert [(d["kpis"]["trucks"], event_id) for _, d, event_id in resumed] == [
        (200, "2"),
        (300, "3"),
    ]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"scope": "chengdu"},
            "query.scope: unknown 'chengdu'; known: tuanjiecun, xiaonanya, yuzui, corridor",
        ),
        ({"window": "2h"}, "query.window.0: Input should be '1h', 'shift', '24h' or '7d'"),
    ],
)
def test_bad_stream_filters_are_422(
    live_server: LiveServer, params: dict[str, str], message: str
) -> None:
    response = httpx.get(f"{live_server.url}/stream/kpis", params=params, timeout=10)
    assert response.status_code == 422
    assert response.json() == {"detail": message}

"""Limits: event streams per client and in total, history work, each refused with the
documented status and `Retry-After`; and the resumption backlog of a stream.

Streams run against a real uvicorn server; a second client address comes from binding the
client socket to 127.0.0.2 (the whole 127/8 range is loopback on Linux).
"""

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.store.sql_store import SqlStore
from corridor.store_contract import KpiSnapshot, TwinBatch
from tests.api_fixtures import (
    T0,
    TEST_KEY,
    LiveServer,
    corridor_batch,
    sample_kpis,
    start_server,
    stop_server,
    test_settings,
)
from tests.test_api_stream import events

STREAM = "/stream/kpis"


@pytest.fixture
def limited_server(store: SqlStore, database_url: str) -> Iterator[LiveServer]:
    """The API allowing 2 streams per client and 3 in all."""
    settings = test_settings(
        database_url, stream_max_per_client=2, stream_max_connections=3, retry_after_s=7
    )
    live = start_server(create_app(settings, store=store))
    yield live
    stop_server(live)


def open_stream(stack: ExitStack, url: str, source: str = "127.0.0.1") -> httpx.Response:
    """An open event stream from `source`, entered on `stack` (closed when it closes)."""
    transport = httpx.HTTPTransport(local_address=source)
    client = stack.enter_context(httpx.Client(base_url=url, timeout=10, transport=transport))
    return stack.enter_context(client.stream("GET", STREAM))


def test_streams_are_limited_per_client_and_in_total(limited_server: LiveServer) -> None:
    url = limited_server.url
    with ExitStack() as stack:
        first = [open_stream(stack, url) for _ in range(2)]
        assert [response.status_code for response in first] == [200, 200]
        third = open_stream(stack, url)
        assert third.status_code == 429
        assert third.headers["retry-after"] == "7"
        assert "already has 2 event streams open" in third.read().decode()
        other = open_stream(stack, url, source="127.0.0.2")
        assert other.status_code == 200
        over = open_stream(stack, url, source="127.0.0.2")
        assert over.status_code == 503
        assert over.headers["retry-after"] == "7"
        assert "limit of 3 event streams" in over.read().decode()
        first[0].close()
    with ExitStack() as stack:  # every slot came back when the streams closed
        assert [open_stream(stack, url).status_code for _ in range(2)] == [200, 200]


def test_a_resuming_stream_gets_at_most_the_backlog(store: SqlStore, database_url: str) -> None:
    snapshots = [
        KpiSnapshot("yuzui", "1h", T0 + timedelta(minutes=m), T0, sample_kpis(1.0))
        for m in range(10)
    ]
    store.commit(TwinBatch(group="g", offsets={}, snapshots=snapshots))
    live = start_server(create_app(test_settings(database_url, stream_max_backlog=3), store=store))
    try:
        with (
            httpx.Client(base_url=live.url, timeout=10) as client,
            client.stream("GET", STREAM, headers={"Last-Event-ID": "0"}) as response,
        ):
            stream = events(response)
            assert next(stream)[1] == {"cursor": 7}
            resent = [int(next(stream)[2] or 0) for _ in range(3)]
    finally:
        stop_server(live)
    assert resent == [8, 9, 10]


@pytest.mark.parametrize("last_event_id", ["²".encode(), b"-1", b"9" * 40, b"1e3", b"x"])
def test_odd_last_event_ids_start_at_the_newest(
    live_server: LiveServer, store: SqlStore, last_event_id: bytes
) -> None:
    store.commit(corridor_batch(T0))
    with (
        httpx.Client(base_url=live_server.url, timeout=10) as client,
        client.stream("GET", STREAM, headers={"Last-Event-ID": last_event_id}) as response,
    ):
        assert response.status_code == 200
        assert next(events(response))[1] == {"cursor": 16}


HISTORY = "/corridor/kpis/history"


def test_history_work_is_limited_per_client_and_in_total(
    store: SqlStore, database_url: str
) -> None:
    settings = test_settings(
        database_url, history_max_concurrent=2, history_max_per_client=1, retry_after_s=3
    )
    store.commit(corridor_batch(T0))
    with TestClient(create_app(settings, store=store)) as client:
        slots = client.app.state.services.histories  # type: ignore[attr-defined]
        assert client.get(HISTORY).status_code == 200
        with slots.hold("testclient"):  # this client's one history query is in progress
            busy = client.get(HISTORY)
            assert busy.status_code == 429
            assert busy.headers["retry-after"] == "3"
        with slots.hold("10.0.0.1"), slots.hold("10.0.0.2"):  # two other clients' queries
            full = client.get(HISTORY)
            assert full.status_code == 503
            assert full.headers["retry-after"] == "3"
            assert "limit of 2 history queries" in full.json()["detail"]
        assert slots.in_use() == 0
        assert client.get(HISTORY).status_code == 200


def test_history_reads_at_most_its_row_cap(store: SqlStore, database_url: str) -> None:
    for hour in range(3):
        store.commit(corridor_batch(T0 + timedelta(hours=hour)))
    settings = test_settings(database_url, history_max_rows=2)
    params = {"from": "2026-01-05T00:00:00Z", "to": "2026-01-05T03:00:00Z", "window": "1h"}
    with TestClient(create_app(settings, store=store)) as client:
        refused = client.get(HISTORY, params=params)
        assert refused.status_code == 422
        assert "more than 2 snapshots of 1h: narrow the range" in refused.json()["detail"]
        narrower = client.get(HISTORY, params={**params, "to": "2026-01-05T01:00:00Z"})
        assert narrower.status_code == 200
        assert len(narrower.json()["points"]) == 2


def test_the_limits_are_in_the_openapi_document(client: TestClient) -> None:
    document = client.get("/openapi.json", headers={"X-API-Key": TEST_KEY}).json()
    stream = document["paths"][STREAM]["get"]["responses"]
    history = document["paths"][HISTORY]["get"]["responses"]
    for responses in (stream, history):
        assert {"429", "503"} <= set(responses)
        assert "Retry-After" in responses["429"]["headers"]

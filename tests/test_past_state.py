"""The yard at any past moment: `state?at=` and `kpis?at=` equal what the worker stored then.

A real worker loop (Kafka doubles, the real SQL store) catches up on a generated day batch by
batch, storing a twin snapshot every hour of event time; after each batch the test saves what
the store shows as a yard's live state and its newest KPI snapshot. Afterwards the API is
asked for the state and KPIs at those moments: rebuilt from the nearest snapshot and the
archive, they equal what was saved. Moments before the oldest kept snapshot, after the newest
watermark, or without a zone are refused with a message.
"""

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from api.store import readers
from api.store.sql_store import SqlStore
from api.store.tables import KpiSnapshot, YardStatePublic, table_of
from tests.broker_fixtures import SEED, generated_day, stations
from tests.kafka_doubles import cluster_for, fake_settings, fake_worker, publish

YARD = "tuanjiecun"
EVENTS = generated_day()[:3000]
NOW = EVENTS[-1].ts + timedelta(hours=1)
PART = 150  # events published at a time


def run_and_save(store: SqlStore) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(saved state, saved 24h KPIs of the yard) after each part of the day the worker took.

    The events arrive a part at a time, as they would live, so the watermark moves with them."""
    given = fake_settings(
        batch_size=200, twin_snapshot_every=timedelta(hours=1), twin_snapshots_kept=100
    )
    cluster = cluster_for(given)
    worker = fake_worker(cluster, given, store, stations(), SEED, now=lambda: NOW)
    worker.start()
    saved, last_clock = [], None
    for first in range(0, len(EVENTS), PART):
        publish(cluster, given, EVENTS[first : first + PART])
        while worker.step():
            pass
        worker.step()  # quiet: the buffer flushed
        worker.commits.wait()
        state = readers.yard_state(store.engine, yard=YARD)
        if state is not None and state["clock"] != last_clock:
            last_clock = state["clock"]
            public = YardStatePublic.model_validate(state).model_dump(mode="json")
            saved.append((public, newest_kpis(store)))
    worker.close()
    return saved


def newest_kpis(store: SqlStore) -> dict[str, Any]:
    table = table_of(KpiSnapshot)
    query = (
        select(table.c.as_of, table.c.kpis)
        .where(table.c.scope == YARD, table.c.window == "24h")
        .order_by(table.c.as_of.desc())
        .limit(1)
    )
    with store.engine.connect() as connection:
        row = connection.execute(query).first()
    return {} if row is None else {"as_of": row[0], "kpis": row[1]}


def test_state_and_kpis_at_saved_moments_equal_what_was_stored_then(
    store: SqlStore,
    client: TestClient,
) -> None:
    saved = run_and_save(store)
    oldest = min(snapshot.watermark for snapshot in store.twin_snapshots())
    reachable = [(state, kpis) for state, kpis in saved if state["clock"] >= oldest.isoformat()]
    assert len(reachable) >= 5, f"too few saved moments after the first snapshot: {len(saved)}"
    checked = 0
    for state, kpis in reachable:
        answer = client.get(f"/yards/{YARD}/state", params={"at": state["clock"]})
        assert answer.status_code == 200, answer.text
        assert answer.json() == state
        if kpis and kpis["as_of"].isoformat() == _aware(state["clock"]):
            got = client.get(f"/yards/{YARD}/kpis", params={"at": state["clock"], "window": "24h"})
            assert got.status_code == 200, got.text
            assert got.json()["kpis"] == kpis["kpis"]
            checked += 1
    assert checked >= 3, "KPI snapshots were stored at some of the saved moments"


def test_moments_out_of_reach_are_refused_with_the_reach(
    store: SqlStore,
    client: TestClient,
) -> None:
    none_yet = client.get(f"/yards/{YARD}/state", params={"at": "2026-01-05T08:00:00Z"})
    assert none_yet.status_code == 422
    assert "no twin snapshot" in none_yet.json()["detail"]
    saved = run_and_save(store)
    oldest = min(snapshot.watermark for snapshot in store.twin_snapshots())
    before = client.get(
        f"/yards/{YARD}/state", params={"at": (oldest - timedelta(minutes=1)).isoformat()}
    )
    assert before.status_code == 422
    assert oldest.isoformat() in before.json()["detail"]
    later = client.get(f"/yards/{YARD}/kpis", params={"at": (NOW + timedelta(days=1)).isoformat()})
    assert later.status_code == 422
    assert "newest watermark" in later.json()["detail"]
    naive = client.get(f"/yards/{YARD}/state", params={"at": "2026-01-05T08:00:00"})
    assert naive.status_code == 422
    assert (
        client.get("/yards/nowhere/state", params={"at": saved[-1][0]["clock"]}).status_code == 404
    )


def _aware(clock: str) -> str:
    return clock.replace("Z", "+00:00")

"""The worker's health as the store keeps it and the API shows it: yards ahead, flagged input.

A batch carrying flagged-input counts and yards whose clock ran ahead of their inputs is
committed to the real SQL store (SQLite, and PostgreSQL when configured); `/ready` lists the
yards ahead per worker group and `/metrics` exposes both, adding counts across commits.
"""

from fastapi.testclient import TestClient

from api.store import readers
from api.store.sql_store import SqlStore
from tests.api_fixtures import T0, corridor_batch
from tests.prometheus_text import value


def test_flags_add_up_and_yards_ahead_are_replaced_by_each_commit(store: SqlStore) -> None:
    first = corridor_batch(T0)
    first.flags = {"key_not_yard": 2, "gate_out_before_gate_in": 1}
    first.yards_ahead = {"yuzui": 86_400.0}
    store.commit(first)
    second = corridor_batch(T0, offset=10)
    second.flags = {"key_not_yard": 3}
    store.commit(second)

    assert readers.input_flag_counts(store.engine) == {
        "gate_out_before_gate_in": 1,
        "key_not_yard": 5,
    }
    [worker] = readers.workers(store.engine)
    assert worker.yards_ahead == {}, "the latest commit says no yard is ahead any more"


def test_ready_and_metrics_show_yards_ahead_and_flags(client: TestClient, store: SqlStore) -> None:
    batch = corridor_batch(T0)
    batch.flags = {"gate_out_before_gate_in": 4}
    batch.yards_ahead = {"yuzui": 2_300_000_000.0, "xiaonanya": 3_600.5}
    store.commit(batch)

    [worker] = client.get("/ready").json()["workers"]
    assert worker["yards_ahead"] == {"xiaonanya": 3_600.5, "yuzui": 2_300_000_000.0}
    text = client.get("/metrics").text
    assert value(text, "corridor_input_flags_total", kind="gate_out_before_gate_in") == 4.0
    ahead = value(
        text, "corridor_worker_yard_ahead_seconds", group="corridor-twin", yard="xiaonanya"
    )
    assert ahead == 3600.5

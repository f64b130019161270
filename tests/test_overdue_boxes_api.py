"""The boxes stuck in the yards now, from the live twin through the store to the API and /metrics,
on SQLite and PostgreSQL.

The worker runs for real on in-memory Kafka clients (tests/kafka_doubles.py) over two generated
days and commits to the real SQL store; what the API then lists must be what a replay of the
same events says is in the yards (`Twin.boxes_now`), oldest first, with the same stages.
"""

import dataclasses
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.store import readers
from api.store.sql_store import SqlStore
from api.store.tables import OverdueBoxPublic
from corridor.engine.live_view import BoxNow
from corridor.engine.twin import replay
from corridor.scenario import DEFAULT_START
from corridor.store_contract import TwinBatch
from corridor.traffic.generator import generate
from stations.catalog import station_ids
from stations.spec import load_all_stations
from tests.api_fixtures import T0, corridor_batch, sample_kpis, sample_state
from tests.kafka_doubles import cluster_for, fake_settings, fake_worker, publish
from tests.prometheus_text import samples

SEED = 11


def box(yard: str, serial: int, age_h: float, stage: str = "waiting_for_pickup") -> dict[str, Any]:
    """An old box as the worker sends it (`dataclasses.asdict(BoxNow)`), at the clock T0."""
    return dataclasses.asdict(
        BoxNow(
            yard=yard,
            container_id=f"TGHU{serial:07d}",
            direction="import" if stage.startswith("waiting_for_") else "export",
            reefer=serial % 2 == 0,
            teu=2,
            entered=T0 - timedelta(hours=age_h),
            as_of=T0,
            age_h=age_h,
            stage=stage,
            train_id=f"{yard}-IN-{serial}",
        )
    )


def views(yard: str, boxes: list[dict[str, Any]]) -> TwinBatch:
    """A batch carrying one yard's state and its list of old boxes."""
    return TwinBatch("corridor-twin", {}, yard_states=[sample_state(yard, T0)], boxes=boxes)


@pytest.fixture(scope="module")
def two_days() -> list[Any]:
    return list(generate(load_all_stations(), days=2, seed=SEED, start=DEFAULT_START))


def test_the_worker_commits_the_boxes_a_replay_has_and_the_api_lists_them_oldest_first(
    store: SqlStore, client: TestClient, two_days: list[Any]
) -> None:
    settings = fake_settings()
    cluster = cluster_for(settings)
    publish(cluster, settings, two_days)
    newest = max(event.ts for event in two_days)
    worker = fake_worker(
        cluster, settings, store, load_all_stations(), SEED, now=lambda: newest + timedelta(hours=1)
    )
    # idle_exit_s above quiet_after_s: the quiet flush to the newest event comes first (and a
    # 0.0 would stop the loop while the first of two batches is still being committed)
    worker.run(idle_exit_s=settings.quiet_after_s + 0.2)
    worker.close()

    twin = replay(two_days, load_all_stations(), SEED)
    expected = {
        yard: [OverdueBoxPublic.model_validate(dataclasses.asdict(b)) for b in twin.boxes_now(yard)]
        for yard in station_ids()
    }
    stored = readers.overdue_boxes(store.engine, yard=None, min_age_h=0, limit=10_000)
    assert sorted(stored, key=lambda b: (b.yard, b.container_id)) == sorted(
        (b for boxes in expected.values() for b in boxes), key=lambda b: (b.yard, b.container_id)
    )
    over = [b for b in expected["tuanjiecun"] if b.age_h >= 24]
    assert over, "two generated days leave import boxes over 24 h at Tuanjiecun"

    body = client.get("/yards/tuanjiecun/boxes/overdue").json()
    assert [b["container_id"] for b in body["boxes"]] == [b.container_id for b in over][:100]
    assert [b["age_h"] for b in body["boxes"]] == sorted(
        (b["age_h"] for b in body["boxes"]), reverse=True
    )
    assert body["total"] == len(over)
    assert body["by_stage"] == dict(sorted(Counter(b.stage for b in over).items()))
    assert body["boxes"][0]["as_of"] == newest.astimezone(T0.tzinfo).isoformat().replace(
        "+00:00", "Z"
    )

    corridor = client.get("/boxes/overdue", params={"min_age_h": 12, "limit": 1000}).json()
    everywhere = [b for boxes in expected.values() for b in boxes]
    assert corridor["total"] == len(everywhere)
    assert {b["yard"] for b in corridor["boxes"]} == {b.yard for b in everywhere}
    ages = [b["age_h"] for b in corridor["boxes"]]
    assert ages == sorted(ages, reverse=True)


def test_a_yards_list_is_replaced_with_its_state_and_other_yards_are_left_alone(
    store: SqlStore, client: TestClient
) -> None:
    store.commit(views("yuzui", [box("yuzui", 1, 30.0), box("yuzui", 2, 26.0)]))
    store.commit(views("xiaonanya", [box("xiaonanya", 3, 40.0)]))
    store.commit(views("yuzui", [box("yuzui", 2, 27.0, "waiting_for_unloading")]))  # 1 left

    listed = client.get("/boxes/overdue").json()["boxes"]
    assert [(b["yard"], b["container_id"], b["age_h"], b["stage"]) for b in listed] == [
        ("xiaonanya", "TGHU0000003", 40.0, "waiting_for_pickup"),
        ("yuzui", "TGHU0000002", 27.0, "waiting_for_unloading"),
    ]
    store.commit(views("yuzui", []))
    assert client.get("/yards/yuzui/boxes/overdue").json()["total"] == 0
    assert client.get("/yards/xiaonanya/boxes/overdue").json()["total"] == 1


def test_the_answer_is_bounded_and_bad_parameters_are_named(
    store: SqlStore, client: TestClient
) -> None:
    store.commit(views("yuzui", [box("yuzui", n, 20.0 + n) for n in range(1, 6)]))

    body = client.get("/yards/yuzui/boxes/overdue", params={"limit": 2}).json()
    assert [b["age_h"] for b in body["boxes"]] == [25.0, 24.0]
    assert (body["total"], body["limit"], body["min_age_h"]) == (2, 2, 24.0)
    older = client.get("/yards/yuzui/boxes/overdue", params={"min_age_h": 12}).json()
    assert older["total"] == 5

    for params, named in [
        ({"limit": 1001}, "query.limit"),
        ({"limit": 0}, "query.limit"),
        ({"min_age_h": 6}, "query.min_age_h"),
        ({"min_age_h": "a day"}, "query.min_age_h"),
    ]:
        refused = client.get("/yards/yuzui/boxes/overdue", params=params)
        assert refused.status_code == 422
        assert refused.json()["detail"].startswith(named)
    unknown = client.get("/yards/chongqingbei/boxes/overdue")
    assert unknown.status_code == 404
    assert "unknown yard" in unknown.json()["detail"]


def test_a_malformed_box_fails_the_commit_and_loses_nothing_stored(store: SqlStore) -> None:
    store.commit(views("yuzui", [box("yuzui", 1, 30.0)]))
    broken = box("yuzui", 2, 31.0)
    del broken["stage"]
    with pytest.raises(ValueError, match=r"(?s)old box 'TGHU0000002'.*stage"):
        store.commit(views("yuzui", [broken]))
    kept = readers.overdue_boxes(store.engine, yard="yuzui", min_age_h=0, limit=10)
    assert [b.container_id for b in kept] == ["TGHU0000001"]


def metric_lines(client: TestClient, name: str) -> dict[str, float]:
    """The samples of one metric family, keyed by their labels as `scope="…",window="…"`."""
    order = ("scope", "window", "direction", "stage", "yard")
    keyed = {}
    for labels, number in samples(client.get("/metrics").text, name).items():
        named = dict(labels)
        keyed[",".join(f'{key}="{named[key]}"' for key in order if key in named)] = number
    return keyed


def test_metrics_count_boxes_in_the_yard_and_over_24h_per_yard(
    store: SqlStore, client: TestClient
) -> None:
    assert metric_lines(client, "corridor_boxes_in_yard") == {}  # no live view: no figure
    store.commit(corridor_batch(T0))
    store.commit(
        views("yuzui", [box("yuzui", 1, 30.0), box("yuzui", 2, 23.9), box("yuzui", 3, 24)])
    )

    in_yard = metric_lines(client, "corridor_boxes_in_yard")
    assert in_yard == {f'yard="{yard}"': 640.0 for yard in station_ids()}  # sample_state's count
    over = metric_lines(client, "corridor_boxes_over_24h")
    assert over == {'yard="tuanjiecun"': 0.0, 'yard="xiaonanya"': 0.0, 'yard="yuzui"': 2.0}


def test_metrics_split_dwell_by_stage_from_the_latest_snapshot(
    store: SqlStore, client: TestClient
) -> None:
    store.commit(corridor_batch(T0))
    before = metric_lines(client, "corridor_dwell_stage_hours")
    batch = corridor_batch(T0 + timedelta(hours=1))
    kpis = sample_kpis()
    kpis["dwell_h"]["stages"]["export"]["inspection"] = 2.5
    kpis["dwell_h"]["stages"]["import"]["waiting_for_pickup"] = 40.0
    batch.snapshots = [dataclasses.replace(s, kpis=kpis) for s in batch.snapshots]
    store.commit(batch)

    stages = metric_lines(client, "corridor_dwell_stage_hours")
    yuzui = 'scope="yuzui",window="24h",direction="export",stage="inspection"'
    assert before[yuzui] == 0.2  # sample_kpis' figure, then the newer snapshot's
    assert stages[yuzui] == 2.5
    pickup = 'scope="corridor",window="7d",direction="import",stage="waiting_for_pickup"'
    assert stages[pickup] == 40.0
    assert len(stages) == 4 * 4 * 7  # four scopes, four windows, five export and two import

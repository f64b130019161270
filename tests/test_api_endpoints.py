"""Every read endpoint, with its error cases, against SQLite and PostgreSQL.

Data reaches the store as the worker sends it (`SqlStore.commit` of `TwinBatch`es); the API
must show exactly that, with RFC 3339 times carrying offsets in and out.
"""

import re
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from api.store.sql_store import SqlStore
from corridor.store_contract import DeadLetter, KpiSnapshot, TwinBatch
from stations.spec import load_all_stations
from tests.api_fixtures import T0, corridor_batch, sample_kpis, test_settings

BEIJING = timezone(timedelta(hours=8))


def snapshot(scope: str, window: str, as_of: datetime, level: float) -> KpiSnapshot:
    """One snapshot whose truck count tells which it is (100 x level)."""
    return KpiSnapshot(scope, window, as_of, as_of, sample_kpis(level))


def test_health_is_always_ok(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}


def test_ready_reports_the_database_and_the_workers(client: TestClient, store: SqlStore) -> None:
    empty = client.get("/ready").json()
    assert (empty["status"], empty["database"], empty["workers"]) == ("ready", "ok", [])
    batch = corridor_batch(T0)
    store.commit(batch)
    body = client.get("/ready").json()
    [worker] = body["workers"]
    assert worker["group"] == "corridor-twin"
    assert worker["running"] is True
    assert worker["committed_at"].endswith("Z")


def test_ready_is_503_when_the_database_is_unreachable() -> None:
    settings = test_settings(
        "postgresql+psycopg://postgres@127.0.0.1:1/none", migrate_on_start=False
    )
    with TestClient(create_app(settings)) as client:
        response = client.get("/ready")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["freshness"] is None


def test_ready_says_live_with_a_running_worker_and_a_recent_snapshot(
    client: TestClient, store: SqlStore
) -> None:
    nothing = client.get("/ready").json()["freshness"]
    assert nothing["live"] is False
    assert (nothing["last_snapshot_as_of"], nothing["age_s"]) == (None, None)
    store.commit(corridor_batch(T0 + timedelta(hours=3)))
    fresh = client.get("/ready").json()["freshness"]
    assert fresh["live"] is True
    assert fresh["last_snapshot_as_of"] == "2026-01-05T03:00:00Z"  # event time
    assert 0 <= fresh["age_s"] < 60  # wall time: computed just now
    assert fresh["stale_after_s"] == 1200.0  # the documented default


def test_ready_says_stale_when_the_newest_snapshot_is_older_than_the_bound(
    client: TestClient, store: SqlStore
) -> None:
    computed = datetime.now(BEIJING) - timedelta(seconds=1300)
    old = [KpiSnapshot("corridor", "1h", T0, computed, sample_kpis())]
    store.commit(TwinBatch("corridor-twin", offsets={("t", 0): 1}, snapshots=old))
    body = client.get("/ready").json()
    assert body["workers"][0]["running"] is True  # it committed just now...
    assert body["freshness"]["age_s"] > 1200  # ...but its newest snapshot is old
    assert datetime.fromisoformat(body["freshness"]["last_snapshot_computed_at"]) == computed
    assert body["freshness"]["live"] is False


def test_ready_says_stale_once_the_worker_stopped_committing(
    store: SqlStore, database_url: str
) -> None:
    bound = 2.0  # room for the first request on a loaded machine (0.5 s was not)
    settings = test_settings(database_url, worker_stale_s=bound)
    with TestClient(create_app(settings, store=store)) as client:
        committed = time.monotonic()
        store.commit(corridor_batch(T0))
        assert client.get("/ready").json()["freshness"]["live"] is True
        # no commit for longer than the worker bound: the worker is gone
        time.sleep(max(0.0, committed + bound + 0.1 - time.monotonic()))
        body = client.get("/ready").json()
    assert body["workers"][0]["running"] is False
    assert body["freshness"]["age_s"] < body["freshness"]["stale_after_s"]
    assert body["freshness"]["live"] is False


def test_yards_lists_the_three_stations_with_names_and_clocks(
    client: TestClient, store: SqlStore
) -> None:
    before = client.get("/yards").json()
    assert [(y["id"], y["name_zh"], y["name_en"]) for y in before] == [
        ("tuanjiecun", "团结村", "Tuanjiecun"),
        ("xiaonanya", "小南垭", "Xiaonanya"),
        ("yuzui", "鱼嘴", "Yuzui"),
    ]
    assert {y["clock"] for y in before} == {None}
    store.commit(corridor_batch(T0))
    after = {y["id"]: y for y in client.get("/yards").json()}
    assert after["yuzui"]["clock"] == "2026-01-05T00:00:00Z"
    assert after["yuzui"]["open_reefer_alarms"] == 1
    assert after["xiaonanya"]["open_reefer_alarms"] == 0


def test_a_yard_shows_its_facilities_and_current_state(client: TestClient, store: SqlStore) -> None:
    spec = load_all_stations()["tuanjiecun"]
    empty = client.get("/yards/tuanjiecun").json()
    assert empty["state"] is None
    assert empty["facilities"]["rmgs"] == spec.handling.rmgs
    assert len(empty["facilities"]["timetable"]) == len(spec.rail.timetable)
    store.commit(corridor_batch(T0, level=2.0))
    state = client.get("/yards/tuanjiecun").json()["state"]
    assert state["gate_queue"] == 6
    assert state["next_trains"][0]["departure"] == "2026-01-05T02:00:00Z"


def test_unknown_yards_are_404_with_the_known_ones(client: TestClient) -> None:
    for path in (
        "/yards/chengdu",
        "/yards/chengdu/kpis",
        "/yards/chengdu/reefers",
        "/yards/chengdu/kpis/history",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "unknown yard 'chengdu'" in response.json()["detail"]
        assert "tuanjiecun" in response.json()["detail"]


@pytest.mark.parametrize("path", ["/yards/yuzui/kpis", "/corridor/kpis"])
def test_kpis_before_any_snapshot_are_404_saying_why(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "no KPI snapshot" in response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "scope"), [("/yards/yuzui/kpis", "yuzui"), ("/corridor/kpis", "corridor")]
)
def test_kpis_serve_the_latest_snapshot_of_the_window(
    client: TestClient, store: SqlStore, path: str, scope: str
) -> None:
    store.commit(TwinBatch("g", {}, snapshots=[
        snapshot(scope, "24h", T0 + timedelta(hours=2), 2.0),
        snapshot(scope, "24h", T0 + timedelta(hours=1), 1.0),
        snapshot(scope, "1h", T0 + timedelta(hours=3), 3.0),
    ]))  # fmt: skip
    day = client.get(path).json()  # the default window is 24h
    assert (day["window"], day["as_of"], day["kpis"]["trucks"]) == (
        "24h",
        "2026-01-05T02:00:00Z",
        200,
    )
    hour = client.get(path, params={"window": "1h"}).json()
    assert (hour["as_of"], hour["kpis"]["trucks"]) == ("2026-01-05T03:00:00Z", 300)
    assert hour["computed_at"] == "2026-01-05T03:00:00Z"
    assert client.get(path, params={"window": "shift"}).status_code == 404


@pytest.mark.parametrize("window", ["2h", "", "24H", "1h;drop"])
def test_bad_windows_are_422_naming_the_choices(client: TestClient, window: str) -> None:
    response = client.get("/yards/yuzui/kpis", params={"window": window})
    assert response.status_code == 422
    assert "'1h', 'shift', '24h' or '7d'" in response.text


def test_kpi_answers_are_cached_for_the_ttl(store: SqlStore, database_url: str) -> None:
    app = create_app(test_settings(database_url, kpi_cache_ttl_s=60.0), store=store)
    store.commit(TwinBatch("g", {}, snapshots=[snapshot("yuzui", "24h", T0, 1.0)]))
    with TestClient(app) as client:
        assert client.get("/yards/yuzui/kpis").json()["kpis"]["trucks"] == 100
        store.commit(
            TwinBatch("g", {}, snapshots=[snapshot("yuzui", "24h", T0 + timedelta(hours=1), 2.0)])
        )
        assert client.get("/yards/yuzui/kpis").json()["kpis"]["trucks"] == 100  # within the TTL
        app.state.services.kpi_cache.clear()
        assert client.get("/yards/yuzui/kpis").json()["kpis"]["trucks"] == 200


def history_batch(scope: str) -> TwinBatch:
    """1h-window snapshots at 00:10, 00:50, 01:20 and 05:00."""
    times = [
        timedelta(minutes=10),
        timedelta(minutes=50),
        timedelta(minutes=80),
        timedelta(hours=5),
    ]
    return TwinBatch(
        "g", {}, snapshots=[snapshot(scope, "1h", T0 + t, i + 1.0) for i, t in enumerate(times)]
    )


@pytest.mark.parametrize(
    ("path", "scope"),
    [("/yards/yuzui/kpis/history", "yuzui"), ("/corridor/kpis/history", "corridor")],
)
def test_history_keeps_the_last_snapshot_per_bucket(
    client: TestClient, store: SqlStore, path: str, scope: str
) -> None:
    store.commit(history_batch(scope))
    body = client.get(
        path, params={"from": "2026-01-05T08:00:00+08:00", "to": "2026-01-05T02:00:00Z"}
    ).json()
    assert body["from"] == "2026-01-05T00:00:00Z"
    assert [(p["bucket"], p["as_of"], p["kpis"]["trucks"]) for p in body["points"]] == [
        ("2026-01-05T00:00:00Z", "2026-01-05T00:50:00Z", 200),
        ("2026-01-05T01:00:00Z", "2026-01-05T01:20:00Z", 300),
    ]
    by_day = client.get(path, params={"interval": "1d", "from": "2026-01-04T00:00:00Z"}).json()
    assert [p["kpis"]["trucks"] for p in by_day["points"]] == [400]
    assert by_day["to"] == "2026-01-05T05:00:00Z"  # default: the latest snapshot's event time


def test_history_defaults_to_the_24h_before_the_latest_snapshot(
    client: TestClient, store: SqlStore
) -> None:
    store.commit(history_batch("yuzui"))
    body = client.get("/yards/yuzui/kpis/history", params={"interval": "15m"}).json()
    assert (body["from"], body["to"]) == ("2026-01-04T05:00:00Z", "2026-01-05T05:00:00Z")
    assert len(body["points"]) == 4
    assert client.get("/yards/yuzui/kpis/history", params={"window": "24h"}).json()["points"] == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"interval": "1 hour"}, "interval: expected"),
        ({"interval": "0h"}, "interval: expected"),
        (
            {"interval": "1m", "from": "2025-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
            "more than 2000 points",
        ),
        ({"from": "2026-01-05T10:00:00Z", "to": "2026-01-05T09:00:00Z"}, "is after to"),
        ({"from": "2026-01-05T10:00:00"}, "timezone"),
        ({"to": "yesterday"}, "datetime"),
        ({"from": "1900-01-01T00:00:00Z"}, "outside 2000-2099"),
        ({"window": "month"}, "'1h', 'shift', '24h' or '7d'"),
    ],
)
def test_malformed_history_parameters_are_422_with_a_message(
    client: TestClient, params: dict[str, str], message: str
) -> None:
    response = client.get("/corridor/kpis/history", params=params)
    assert response.status_code == 422
    assert message in response.text


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (None, {"CXRU0000011", "CXRU0000022"}),
        ("alarm", {"CXRU0000011"}),
        ("excursion", {"CXRU0000011"}),
        ("unplugged", {"CXRU0000022"}),
    ],
)
def test_reefers_filter_by_status(
    client: TestClient, store: SqlStore, status: str | None, expected: set[str]
) -> None:
    store.commit(corridor_batch(T0))
    params = {"status": status} if status else {}
    body = client.get("/yards/yuzui/reefers", params=params).json()
    assert body["status"] == status
    assert {r["container_id"][:10] + r["container_id"][10:] for r in body["reefers"]} == {
        cid[:10] + cid[10:] for cid in _with_check_digits(expected)
    }
    assert all(r["last_reading"] == "2026-01-05T00:00:00Z" for r in body["reefers"])


def _with_check_digits(prefixes: set[str]) -> set[str]:
    from tests.api_fixtures import reefer_id

    return {reefer_id(int(prefix[4:10])) for prefix in prefixes}


def test_an_unknown_reefer_status_is_422(client: TestClient) -> None:
    response = client.get("/yards/yuzui/reefers", params={"status": "warm"})
    assert response.status_code == 422
    assert "'alarm', 'excursion' or 'unplugged'" in response.text


def test_dead_letters_are_counted_by_reason(client: TestClient, store: SqlStore) -> None:
    letters = [DeadLetter("not JSON", "t", 0, i, b"{") for i in range(2)] + [
        DeadLetter("yard: x", "t", 0, 9, b"")
    ]
    store.commit(TwinBatch("g", {}, dead_letters=letters))
    assert client.get("/dead-letters").json() == {
        "total": 3,
        "reasons": [{"reason": "not JSON", "count": 2}, {"reason": "yard: x", "count": 1}],
    }


def test_the_dashboard_and_its_assets_are_served_with_nothing_from_outside(
    client: TestClient,
) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'id="yard-names"' in page.text  # filled from GET /yards, as the yards' articles are
    for spec in load_all_stations().values():
        assert spec.name_zh not in page.text
    static = Path(__file__).resolve().parent.parent / "api" / "static"
    for asset in sorted(static.iterdir()):
        body = client.get(f"/static/{asset.name}")
        assert body.status_code == 200, asset.name
        assert not re.search(r"(src|href)=[\"']?(https?:)?//", body.text), asset.name
        assert "@import" not in body.text


def test_openapi_documents_typed_responses_with_examples(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    components = schema["components"]["schemas"]
    for model in (
        "KpiView",
        "KpiHistory",
        "YardSummary",
        "ReeferList",
        "Readiness",
        "ErrorMessage",
    ):
        assert components[model].get("examples"), model
    kpis = schema["paths"]["/yards/{yard}/kpis"]["get"]
    assert kpis["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/KpiView"
    }
    assert "404" in kpis["responses"]
    assert components["KpiView"]["properties"]["as_of"]["format"] == "date-time"


def test_a_read_token_protects_reads_but_not_health(store: SqlStore, database_url: str) -> None:
    settings = test_settings(database_url, read_token=SecretStr("read-token-7c1e-long"))
    with TestClient(create_app(settings, store=store)) as client:
        assert client.get("/health").status_code == 200
        assert client.get("/yards").status_code == 401
        assert (
            client.get(
                "/yards", headers={"Authorization": "Bearer read-token-7c1e-long"}
            ).status_code
            == 200
        )
        assert client.get("/yards", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert (
            client.get(
                "/metrics", headers={"X-API-Key": settings.api_key.get_secret_value()}
            ).status_code
            == 200
        )
        client.cookies.set("corridor_token", "read-token-7c1e-long")
        assert client.get("/corridor/kpis/history").status_code == 200

"""`GET /metrics` as Prometheus reads it, against SQLite and PostgreSQL.

The exposition is `prometheus_client`'s since the hand-written formatter went; every family
the hand-written one gave (names, types, help and labels as it wrote them, listed in
`HAND_WRITTEN` below) must still be there, and the figures must be the store's. The text is
read with the library's own parser (`tests/prometheus_text.py`), never matched as strings.
"""

import re
from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from api.metrics import BUCKETS
from api.store import readers
from api.store.sql_store import SqlStore
from corridor.store_contract import ArchivedEvent, DeadLetter
from tests.api_fixtures import SCOPES, T0, WINDOWS, corridor_batch, sample_kpis, test_settings
from tests.prometheus_text import by, samples, value

HAND_WRITTEN = {
    "corridor_kpi": ("gauge", "Latest KPI figure by scope, window and name.", "scope window kpi"),
    "corridor_kpi_as_of_seconds": ("gauge", "Event time of the latest snapshot.", "scope window"),
    "corridor_dwell_stage_hours": (
        "gauge",
        "Mean hours a box spends in each stage of its dwell (dwell_h.stages), by direction.",
        "scope window direction stage",
    ),
    "corridor_boxes_in_yard": ("gauge", "Boxes in the yard at its twin clock.", "yard"),
    "corridor_boxes_over_24h": (
        "gauge",
        "Boxes in the yard for 24 h or more at its twin clock (the one-day target).",
        "yard",
    ),
    "corridor_dead_letters_total": (
        "counter",
        "Messages that could not be applied, by reason.",
        "reason",
    ),
    "corridor_input_flags_total": (
        "counter",
        "Valid events applied but flagged (gate-out before gate-in, key not the yard), by kind.",
        "kind",
    ),
    "corridor_open_reefer_alarms": ("gauge", "Reefers in alarm or in excursion, by yard.", "yard"),
    "corridor_worker_yard_ahead_seconds": (
        "gauge",
        "Yard clock ahead of the newest input by more than the lateness.",
        "group yard",
    ),
    "corridor_worker_last_commit_seconds": ("gauge", "Wall time of the last commit.", "group"),
    "corridor_worker_last_event_seconds": ("gauge", "Latest archived event time.", "group"),
    "corridor_worker_lag_messages": ("gauge", "Messages behind the feeds' ends.", "group"),
    "corridor_api_requests_total": (
        "counter",
        "HTTP requests answered, by method, route template and status.",
        "method route status",
    ),
    "corridor_api_request_duration_seconds": (
        "histogram",
        "Time to answer a request (streams: until closed), by route template.",
        "route",
    ),
}
"""(type, help, labels) of each family as the hand-written exposition wrote it (cba121a)."""

LIBRARY_EXTRAS = {
    "corridor_api_requests_created",
    "corridor_api_request_duration_seconds_created",
}
"""What `prometheus_client` adds to every counter and histogram: when each series began."""

ADDED_SINCE = {
    "corridor_reefer_min_minutes_to_breach",
    "corridor_reefers_breaching_within",
}
"""Families added after the hand-written exposition (tests/test_reefer_breach_api.py)."""


def seeded(store: SqlStore) -> None:
    """Every family with samples: snapshots, states, reefers, letters, flags, a yard ahead."""
    batch = corridor_batch(T0)
    batch.dead_letters = [
        DeadLetter('quote " and \\ backslash', "t", 0, 1, b""),
        DeadLetter("new\nline", "t", 0, 2, b""),
        DeadLetter("new\nline", "t", 0, 3, b""),
    ]
    batch.flags = {"gate_out_before_gate_in": 4, "key_not_yard": 2}
    batch.yards_ahead = {"yuzui": 3600.5}
    batch.lag = 17
    latest = T0 - timedelta(minutes=5)
    batch.archived = [ArchivedEvent("e1", "yuzui", latest, b'{"event_id":"e1"}')]
    store.commit(batch)


def headers(text: str) -> dict[str, tuple[str, str]]:
    """Each family's (type, help) from its `# TYPE` and `# HELP` lines, by the name written."""
    kinds = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.MULTILINE))
    helps = dict(re.findall(r"^# HELP (\S+) (.*)$", text, re.MULTILINE))
    assert kinds.keys() == helps.keys()
    return {name: (kind, helps[name]) for name, kind in kinds.items()}


def flat(kpis: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, float]]:
    """The numeric leaves of a KPI block, as the docs name them (`dwell_h.by.reefer.p50`)."""
    for key, leaf in kpis.items():
        if isinstance(leaf, Mapping):
            yield from flat(leaf, f"{prefix}{key}.")
        elif isinstance(leaf, int | float) and not isinstance(leaf, bool):
            yield f"{prefix}{key}", float(leaf)


def test_every_family_of_the_hand_written_exposition_is_kept(
    client: TestClient, store: SqlStore
) -> None:
    seeded(store)
    client.get("/yards/yuzui/kpis")
    response = client.get("/metrics")
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    text = response.text

    written = headers(text)
    assert set(written) == set(HAND_WRITTEN) | LIBRARY_EXTRAS | ADDED_SINCE
    for name, (kind, doc, _labels) in HAND_WRITTEN.items():
        assert written[name] == (kind, doc), name
    for name in LIBRARY_EXTRAS:
        assert written[name][0] == "gauge"

    families = {family.name: family for family in text_string_to_metric_families(text)}
    for name, (kind, _doc, labels) in HAND_WRITTEN.items():
        family = families[name.removesuffix("_total")]  # the parser names a counter without it
        assert family.type == kind, name
        assert family.samples, f"{name} has no sample on the seeded store"
        for sample in family.samples:
            assert set(sample.labels) - {"le"} == set(labels.split()), (name, sample)
    name = r"[a-zA-Z_:][a-zA-Z0-9_:]*"  # the exposition format's metric name
    for line in text.splitlines():  # every sample line is name{labels} value
        assert line.startswith("#") or re.fullmatch(
            rf"{name}(\{{.*\}})? [-+0-9.eE]+|{name}(\{{.*\}})? NaN", line
        ), line


def test_the_figures_are_the_stores(client: TestClient, store: SqlStore) -> None:
    seeded(store)
    text = client.get("/metrics").text

    leaves = dict(flat(sample_kpis()))
    expected = {
        frozenset({("scope", scope), ("window", window), ("kpi", kpi)}): figure
        for scope in SCOPES
        for window in WINDOWS
        for kpi, figure in leaves.items()
    }
    assert samples(text, "corridor_kpi") == expected
    as_of = samples(text, "corridor_kpi_as_of_seconds")
    assert as_of == {
        frozenset({("scope", scope), ("window", window)}): T0.timestamp()
        for scope in SCOPES
        for window in WINDOWS
    }
    reefer_p50 = {"scope": "yuzui", "window": "24h", "kpi": "dwell_h.by.reefer.p50"}
    assert value(text, "corridor_kpi", **reefer_p50) == 18.0

    assert by(text, "corridor_dead_letters_total", "reason") == {
        'quote " and \\ backslash': 1.0,
        "new\nline": 2.0,
    }
    assert by(text, "corridor_input_flags_total", "kind") == {
        "gate_out_before_gate_in": 4.0,
        "key_not_yard": 2.0,
    }
    assert by(text, "corridor_open_reefer_alarms", "yard") == {
        "tuanjiecun": 0.0,
        "xiaonanya": 0.0,
        "yuzui": 1.0,
    }
    [worker] = readers.workers(store.engine)
    group = {"group": "corridor-twin"}
    committed = value(text, "corridor_worker_last_commit_seconds", **group)
    assert committed == worker.committed_at.timestamp()
    assert (
        value(text, "corridor_worker_last_event_seconds", **group)
        == (T0 - timedelta(minutes=5)).timestamp()
    )
    assert value(text, "corridor_worker_lag_messages", **group) == 17.0
    assert value(text, "corridor_worker_yard_ahead_seconds", **group, yard="yuzui") == 3600.5


def test_requests_are_counted_by_route_template_with_cumulative_buckets(
    client: TestClient, store: SqlStore
) -> None:
    store.commit(corridor_batch(T0))
    for _ in range(3):
        client.get("/yards/yuzui/kpis")
    client.get("/yards/nowhere/kpis")
    client.get("/no/such/path")
    text = client.get("/metrics").text

    route = "/yards/{yard}/kpis"
    counted = samples(text, "corridor_api_requests_total")
    assert counted[frozenset({("method", "GET"), ("route", route), ("status", "200")})] == 3.0
    assert counted[frozenset({("method", "GET"), ("route", route), ("status", "404")})] == 1.0
    unmatched = frozenset({("method", "GET"), ("route", "<unmatched>"), ("status", "404")})
    assert counted[unmatched] == 1.0
    assert not any(dict(labels)["route"].startswith("/yards/yuzui") for labels in counted)

    buckets = {
        dict(labels)["le"]: count
        for labels, count in samples(text, "corridor_api_request_duration_seconds_bucket").items()
        if dict(labels)["route"] == route
    }
    assert list(buckets) == [*(str(bound) for bound in BUCKETS), "+Inf"]
    counts = list(buckets.values())
    assert counts == sorted(counts), "buckets are cumulative"
    assert counts[-1] == 4.0
    assert value(text, "corridor_api_request_duration_seconds_count", route=route) == 4.0
    assert value(text, "corridor_api_request_duration_seconds_sum", route=route) > 0.0


def test_each_scrape_reads_the_store_again(client: TestClient, store: SqlStore) -> None:
    text = client.get("/metrics").text
    assert samples(text, "corridor_kpi") == {}  # nothing committed: no figure, not a false 0
    assert samples(text, "corridor_dead_letters_total") == {}
    store.commit(corridor_batch(T0))
    assert value(client.get("/metrics").text, "corridor_kpi_as_of_seconds", scope="corridor",
                 window="1h") == T0.timestamp()  # fmt: skip
    later = T0 + timedelta(hours=1)
    store.commit(corridor_batch(later, offset=5))
    assert value(client.get("/metrics").text, "corridor_kpi_as_of_seconds", scope="corridor",
                 window="1h") == later.timestamp()  # fmt: skip


def test_two_apps_in_one_process_keep_their_own_counts(store: SqlStore, database_url: str) -> None:
    first = create_app(test_settings(database_url), store=store)
    second = create_app(test_settings(database_url), store=store)  # no clash of names
    with TestClient(first) as one, TestClient(second) as other:
        for _ in range(5):
            one.get("/health")
        other.get("/health")
        counted = {
            name: value(
                client.get("/metrics").text,
                "corridor_api_requests_total",
                method="GET",
                route="/health",
                status="200",
            )
            for name, client in (("first", one), ("second", other))
        }
    assert counted == {"first": 5.0, "second": 1.0}

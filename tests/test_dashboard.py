"""End to end in a real headless Chromium: the dashboard shows the yards and follows the real
worker (embedded broker, SQL store, the API served by uvicorn), and it says "live" only while a
worker is running and the newest snapshot is recent, "stale" otherwise, "offline" while the API
does not answer (and recovers by itself when it is back).

Chromium is driven over the DevTools protocol (`tests/chromium.py`). Screenshots are saved in
`.artifacts/` (kept by CI): `dashboard.png`, `dashboard-live.png`, `dashboard-stale.png`,
`dashboard-offline.png`.
"""

import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from api.app import create_app
from api.settings import ApiSettings
from api.store import readers
from api.store.sql_store import SqlStore
from corridor.contract.events import Event
from corridor.scenario import DEFAULT_START, parse_scenario
from corridor.store_contract import DeadLetter, TwinBatch
from corridor.traffic.generator import generate
from stations.spec import StationSpec, load_all_stations
from streams.broker import EmbeddedBroker
from streams.clients import ensure_topics, make_admin, make_producer
from streams.connect import connect_worker
from streams.publish import publish
from streams.settings import KafkaSettings
from tests.api_fixtures import (
    T0,
    LiveServer,
    corridor_batch,
    start_server,
    stop_server,
    test_settings,
)
from tests.chromium import Chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parent.parent / ".artifacts"
SEED = 11
CHINA = timezone(timedelta(hours=8))


def stations() -> dict[str, StationSpec]:
    """The three baseline yards."""
    return load_all_stations()


QUICK_TURNOVER = {  # boxes that leave within hours, so one generated day shows dwell figures
    name: {"dist": "triangular", "low": 1.0, "mode": 3.0, "high": 8.0}
    for name in (
        "export_lead_h",
        "import_pickup_h",
        "reefer_export_lead_h",
        "reefer_import_pickup_h",
    )
}


def generated_day() -> list[Event]:
    """A generated day of traffic at the three yards, in event-time order.

    Today's lead times keep a box one to five days (the baseline), so in one day hardly any
    leaves and the dwell chart would stay empty; the traffic here turns boxes over in hours.
    """
    quick = {yard: {"traffic": QUICK_TURNOVER} for yard in stations()}
    traffic = parse_scenario({"stations": quick}, name="quick-turnover").stations
    return list(generate(traffic, days=1, seed=SEED, start=DEFAULT_START))


def kafka_settings(broker: EmbeddedBroker) -> KafkaSettings:
    """Topics and a group of this test's own, and test-sized timings."""
    tag = uuid.uuid4().hex[:8]
    values: dict[str, Any] = {
        "bootstrap_servers": broker.bootstrap_servers,
        "group_id": f"g{tag}",
        **{
            f"topic_{name}": f"d{tag}.{name}"
            for name in ("dispatch", "reefer", "trains", "dead_letter", "kpi")
        },
        "quiet_after_s": 0.3,
        "poll_timeout_s": 0.05,
        "catchup_kpi_every_s": 0.5,
    }
    return KafkaSettings(**values)


class RunningWorker:
    """`streams.worker.Worker` on its own thread, committing to the SQL store."""

    def __init__(self, settings: KafkaSettings, url: str) -> None:
        self.store = SqlStore.open(url)
        self.worker = connect_worker(settings, self.store, stations(), SEED)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.worker.run, args=(self.stop,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=60)
        self.worker.close()
        self.store.close()


def corridor_as_of(browser: Chromium) -> str:
    """The event time the corridor's KPI tiles show."""
    return str(browser.evaluate("document.getElementById('corridor').dataset.asOf || ''"))


def wait_until_committed(store: SqlStore, events: list[Event], timeout: float = 120.0) -> None:
    """Until the worker's corridor snapshot reaches the newest published event."""
    newest = max(event.ts for event in events)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        latest = readers.latest_snapshot(store.engine, scope="corridor", window="24h")
        if latest is not None and latest.as_of >= newest:
            return
        time.sleep(0.2)
    raise AssertionError("the worker did not catch up")


def feed(events: list[Event], kafka: KafkaSettings, store: SqlStore, slice_h: int = 2) -> None:
    """Publish the events a slice of event time at a time, each once the worker has caught up,
    as a day's feed would arrive (so the worker snapshots through the day, for the charts)."""
    slices: dict[int, list[Event]] = {}
    for event in events:
        slices.setdefault(int((event.ts - events[0].ts) / timedelta(hours=slice_h)), []).append(
            event
        )
    for part in slices.values():
        publish(part, kafka)
        wait_until_committed(store, part)


def publish_bad_messages(kafka: KafkaSettings) -> None:
    """Text that is not JSON, bytes that are not UTF-8, an event without its fields."""
    ensure_topics(make_admin(kafka), kafka, kafka.all_topics)
    producer = make_producer(kafka)
    for raw in (b"{not json", b"\xff{not json either", b'{"v": 1, "type": "truck.dispatched"}'):
        producer.produce(kafka.topic_dispatch, raw, b"yuzui")
    assert producer.flush(10) == 0


def wait_for_dead_letters(store: SqlStore, total: int, timeout: float = 60.0) -> dict[str, int]:
    """The store's dead-letter counts by reason, once they add up to `total`."""
    deadline = time.monotonic() + timeout
    counts: dict[str, int] = {}
    while time.monotonic() < deadline:
        counts = {row.reason: row.count for row in readers.dead_letter_counts(store.engine)}
        if sum(counts.values()) == total:
            return counts
        time.sleep(0.2)
    raise AssertionError(f"the worker dead-lettered {counts}, not {total} messages")


def china_time(moment: datetime) -> str:
    """A time as the dashboard writes it (China time, to the minute)."""
    return f"{moment.astimezone(CHINA):%m/%d %H:%M} (+08:00)"


def shown_dead_letters(browser: Chromium) -> dict[str, str]:
    """Each dead-letter reason the page lists, with its row's text."""
    rows = "[...document.querySelectorAll('[data-status=dead-letters] li[data-reason]')]"
    return dict(browser.evaluate(f"{rows}.map(li => [li.dataset.reason, li.innerText])"))


@pytest.mark.broker
def test_the_dashboard_shows_the_yards_and_follows_the_worker(
    chromium: Chromium, tmp_path: Path
) -> None:
    # The day from 00:40: a worker snapshot due exactly at the twin's epoch (the first event's
    # UTC hour) trips streams.snapshots on an empty window, reported to the streams owner.
    start = DEFAULT_START + timedelta(minutes=40)
    events = [event for event in generated_day() if event.ts >= start]
    first, rest = events[: len(events) * 5 // 6], events[len(events) * 5 // 6 :]
    url = f"sqlite:///{tmp_path / 'corridor.db'}"
    reader = SqlStore.open(url)
    with EmbeddedBroker() as broker:
        kafka = kafka_settings(broker)
        worker = RunningWorker(kafka, url)
        live: LiveServer = start_server(
            create_app(test_settings(url, stream_poll_s=0.3), store=reader)
        )
        try:
            feed(first, kafka, reader)
            before = readers.dead_letter_counts(reader.engine)  # rejections of the day's own
            publish_bad_messages(kafka)
            letters = wait_for_dead_letters(reader, total=sum(r.count for r in before) + 3)
            chromium.navigate(live.url + "/")
            chromium.wait_for("document.body.dataset.ready === 'true'")
            chromium.wait_for("document.getElementById('live').className.includes('on')")
            assert chromium.text("#live-text") == "实时 live"
            newest = readers.latest_snapshot(reader.engine, scope="corridor", window="1h")
            assert newest is not None
            assert china_time(newest.as_of) in chromium.text("[data-field=event-time]")
            assert "s ago" in chromium.text("[data-field=wall-time]")
            worker_text = chromium.text(f"[data-status=worker] li[data-group={kafka.group_id}]")
            assert worker_text.startswith("运行中 running")
            assert "lag" in worker_text
            chromium.wait_for("document.querySelector('[data-field=dead-letter-total]')"
                              f".innerText === '{sum(letters.values())}'")  # fmt: skip
            shown = shown_dead_letters(chromium)
            assert {reason: int(text.split()[0]) for reason, text in shown.items()} == letters
            assert "非 JSON not JSON" in shown["not_json"]
            assert "非 UTF-8 文本 not UTF-8 text" in shown["not_utf8"]
            yards = chromium.evaluate(
                "[...document.querySelectorAll('.yard h2')].map(h => h.innerText)"
            )
            assert [text.split()[:2] for text in yards] == [
                ["团结村", "Tuanjiecun"], ["小南垭", "Xiaonanya"], ["鱼嘴", "Yuzui"]
            ]  # fmt: skip
            tiles = "document.querySelectorAll('.yard [data-kpi=dwell-mean]').length"
            assert chromium.evaluate(tiles) == 3
            points = "[...document.querySelectorAll('.yard svg[data-chart=%s]')]"
            points += ".map(s => +(s.dataset.points || 0))"
            assert min(chromium.evaluate(points % "teu")) >= 5  # a point per slice fed, or so
            assert min(chromium.evaluate(points % "dwell")) >= 2  # null while no box has left
            before = corridor_as_of(chromium)
            assert before

            feed(rest, kafka, reader)
            chromium.wait_for(f"document.getElementById('corridor').dataset.asOf !== '{before}'")
            chromium.wait_for("+document.getElementById('live-count').textContent > 0")
            after = corridor_as_of(chromium)
            assert after > before
            yard_as_of = "[...document.querySelectorAll('.yard')].map(a => a.dataset.asOf)"
            chromium.wait_for(f"{yard_as_of}.every(t => t === '{after}')")
            time.sleep(1.5)  # let the debounced state and chart refresh finish before the picture
            chromium.screenshot(ARTIFACTS / "dashboard.png")
        finally:
            stop_server(live)
            worker.close()
            reader.close()
    assert chromium.errors == []
    assert (ARTIFACTS / "dashboard.png").stat().st_size > 20_000


# --- live, stale, offline ----------------------------------------------------------------------

BOUND_S = 6.0  # the worker and snapshot stale bounds here: above the page's 5 s poll of /ready
LETTERS = [
    DeadLetter("not_json", "corridor.truck-dispatch", 0, 7, b"{oops", "not JSON: ..."),
    DeadLetter("not_json", "corridor.truck-dispatch", 0, 9, b"{oops", "not JSON: ..."),
    DeadLetter("invalid:ts", "corridor.reefer", 1, 3, b"{}", "ts: Expected `datetime`"),
]


class CommittingWorker:
    """What the store sees of a running worker, through the same `SqlStore.commit`: a batch each
    second, each with snapshots 15 min of event time later (the first with dead letters)."""

    def __init__(self, url: str) -> None:
        self.store = SqlStore.open(url)
        self.commits = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def newest_as_of(self) -> datetime:
        return T0 + timedelta(minutes=15 * (self.commits - 1))

    def _run(self) -> None:
        while not self._stop.is_set():
            batch: TwinBatch = corridor_batch(
                T0 + timedelta(minutes=15 * self.commits), offset=self.commits
            )
            batch.dead_letters = LETTERS if self.commits == 0 else []
            self.store.commit(batch)
            self.commits += 1
            self._stop.wait(1.0)


def serve_again(app: FastAPI, url: str) -> LiveServer:
    """Serve `app` where an earlier server was (the open page's origin)."""
    return start_server(app, port=int(url.rsplit(":", 1)[1]))


def settings_with_short_bounds(url: str) -> ApiSettings:
    return test_settings(url, stream_poll_s=0.5, worker_stale_s=BOUND_S, snapshot_stale_s=BOUND_S)


def page_state(browser: Chromium) -> tuple[str, str, str]:
    """The freshness the page declares, the live dot's classes and the word beside it."""
    freshness = str(browser.evaluate("document.body.dataset.freshness"))
    return (
        freshness,
        str(browser.evaluate("document.getElementById('live').className")),
        (browser.text("#live-text")),
    )


def test_the_dashboard_says_live_only_while_the_worker_runs_and_its_data_is_recent(
    chromium: Chromium, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'corridor.db'}"
    reader = SqlStore.open(url)
    worker = CommittingWorker(url)
    worker.start()
    server = start_server(create_app(settings_with_short_bounds(url), store=reader))
    try:
        chromium.navigate(server.url + "/")
        chromium.wait_for("document.body.dataset.ready === 'true'")
        chromium.wait_for("document.body.dataset.freshness === 'live'")
        chromium.wait_for("+document.getElementById('live-count').textContent > 0")  # flowing
        assert page_state(chromium) == ("live", "live on", "实时 live")
        assert chromium.evaluate("document.getElementById('stale-banner').hidden") is True
        chromium.wait_for("document.querySelector('[data-field=dead-letter-total]')"
                          ".innerText === '3'")  # fmt: skip
        shown = shown_dead_letters(chromium)
        assert shown.keys() == {"not_json", "invalid:ts"}
        assert shown["not_json"].startswith("2 非 JSON not JSON")
        assert shown["invalid:ts"].startswith("1 字段无效 invalid field")
        chromium.screenshot(ARTIFACTS / "dashboard-live.png")

        worker.stop()  # no more commits: a stopped worker, its last snapshot ageing
        last = worker.newest_as_of()
        chromium.wait_for("document.body.dataset.freshness === 'stale'", timeout=30)
        chromium.wait_for("document.getElementById('stale-banner').innerText"
                          ".includes('stopped')", timeout=30)  # fmt: skip
        freshness, dot, word = page_state(chromium)
        assert (freshness, word) == ("stale", "已过期 stale")
        assert "on" not in dot.split()
        assert china_time(last) in chromium.text("#stale-banner")  # the figures' event time
        assert china_time(last) in chromium.text("[data-field=event-time]")
        age = float(
            chromium.evaluate("document.querySelector('[data-field=data-age]').dataset.ageS")
        )
        assert age >= BOUND_S
        assert chromium.text("[data-status=worker] li").startswith("已停止 stopped")
        chromium.screenshot(ARTIFACTS / "dashboard-stale.png")

        stop_server(server)  # the API itself goes away: the page keeps its figures, says so
        chromium.wait_for("document.body.dataset.freshness === 'offline'", timeout=30)
        assert "offline" in chromium.text("#stale-banner")
        assert chromium.evaluate("document.querySelectorAll('.yard [data-kpi]').length") > 0
        chromium.screenshot(ARTIFACTS / "dashboard-offline.png")

        worker.start()  # both back: the page notices by itself and is live again
        server = serve_again(create_app(settings_with_short_bounds(url), store=reader), server.url)
        chromium.wait_for("document.body.dataset.freshness === 'live'", timeout=60)
        chromium.wait_for(
            f"document.getElementById('corridor').dataset.asOf > '{last.isoformat()}'"
        )
    finally:
        stop_server(server)
        worker.stop()
        worker.store.close()
        reader.close()
    assert chromium.errors == []

"""End to end: the real worker feeds the store from the embedded broker, the API serves it, and
the dashboard in a real headless Chromium shows all three yards and updates when events arrive.

Chromium is driven over the DevTools protocol (a websocket, no driver binary needed). A
screenshot is saved as `.artifacts/dashboard.png`.
"""

import base64
import contextlib
import json
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect

from api.app import create_app
from api.store import readers
from api.store.sql_store import SqlStore
from corridor.contract.events import Event
from corridor.scenario import DEFAULT_START
from corridor.traffic.generator import generate
from stations.spec import StationSpec, load_all_stations
from streams.broker import EmbeddedBroker
from streams.connect import connect_worker
from streams.publish import publish
from streams.settings import KafkaSettings
from tests.api_fixtures import LiveServer, start_server, stop_server, test_settings

pytestmark = [pytest.mark.browser, pytest.mark.broker, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parent.parent / ".artifacts"
SEED = 11
TOPICS = ("dispatch", "reefer", "trains", "dead_letter", "kpi")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--remote-debugging-port=0",
    "--window-size=1500,2000",
)


class Chromium:
    """A headless Chromium with one page, driven over the DevTools protocol."""

    def __init__(self, binary: str, profile: Path) -> None:
        self.process = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._resources = contextlib.ExitStack()
        self.errors: list[str] = []
        self._drain: threading.Thread | None = None
        try:
            self._open()
        except BaseException:
            self.close()  # never leave a browser running behind a failed start
            raise

    def _open(self) -> None:
        self.socket = self._resources.enter_context(
            connect(self._devtools_url(), max_size=None, open_timeout=20)
        )
        self._next_id = 0
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        for domain in ("Page.enable", "Runtime.enable"):
            self.call(domain, session=True)
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=1500, height=2000,
                  deviceScaleFactor=1, mobile=False)  # fmt: skip

    def _devtools_url(self) -> str:
        assert self.process.stderr is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if "DevTools listening on " in line:
                self._drain = threading.Thread(target=self._drain_stderr, daemon=True)
                self._drain.start()
                return line.split("DevTools listening on ", 1)[1].strip()
            if not line and self.process.poll() is not None:
                break
        raise RuntimeError("chromium did not open its DevTools port")

    def _drain_stderr(self) -> None:
        assert self.process.stderr is not None
        for _ in self.process.stderr:
            pass

    def call(self, method: str, *, session: bool = False, **params: Any) -> dict[str, Any]:
        """Send one command and wait for its answer, noting page errors seen meanwhile."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        self.socket.send(json.dumps(message))
        while True:
            reply = json.loads(self.socket.recv(timeout=60))
            if reply.get("method") == "Runtime.exceptionThrown":
                self.errors.append(json.dumps(reply["params"]["exceptionDetails"])[:500])
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self.call("Runtime.evaluate", session=True, expression=expression,
                           returnByValue=True, awaitPromise=True)  # fmt: skip
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 60.0) -> Any:
        """Poll until the expression is truthy (an error while the page loads counts as false)."""
        guarded = f"(() => {{ try {{ return ({expression}); }} catch (e) {{ return false; }} }})()"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(guarded)
            if value:
                return value
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for: {expression}")

    def navigate(self, url: str) -> None:
        """Open a page."""
        self.call("Page.navigate", session=True, url=url)

    def screenshot(self, path: Path) -> None:
        """Save the whole page as a PNG."""
        data = self.call(
            "Page.captureScreenshot", session=True, format="png", captureBeyondViewport=True
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data["data"]))

    def close(self) -> None:
        """Close the connection and end the browser process."""
        self._resources.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        if self._drain is not None:
            self._drain.join(timeout=10)  # it ends at the pipe's end, now the browser has gone
        if self.process.stderr is not None:
            self.process.stderr.close()


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[Chromium]:
    """Debian's chromium, headless, with a fresh profile."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.skip("needs Debian's chromium (apt-get install -y chromium)")
    browser = Chromium(binary, tmp_path / "profile")
    yield browser
    browser.close()


def stations() -> dict[str, StationSpec]:
    """The three baseline yards."""
    return load_all_stations()


def generated_day() -> list[Event]:
    """A generated day of traffic at the three yards, in event-time order."""
    return list(generate(stations(), days=1, seed=SEED, start=DEFAULT_START))


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
            chromium.navigate(live.url + "/")
            chromium.wait_for("document.body.dataset.ready === 'true'")
            chromium.wait_for("document.getElementById('live').className.includes('on')")
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

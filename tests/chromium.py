"""A headless Chromium driven over the DevTools protocol (a websocket, no driver binary needed),
for the dashboard's end-to-end tests (`tests/test_dashboard.py` starts Debian's chromium), and
the dashboard served from a store and open in it (`dashboard_open`).
"""

import base64
import contextlib
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect

from api.app import create_app
from api.store.sql_store import SqlStore
from tests.api_fixtures import LiveServer, start_server, stop_server
from tests.api_fixtures import test_settings as api_settings

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

    def __init__(self, binary: str, profile: Path, flags: Sequence[str] = ()) -> None:
        self.process = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, *flags, f"--user-data-dir={profile}", "about:blank"],
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
            self._note(reply)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result

    def _note(self, reply: dict[str, Any]) -> None:
        """Keep what an event seen while waiting tells (page errors; subclasses note more)."""
        if reply.get("method") == "Runtime.exceptionThrown":
            self.errors.append(json.dumps(reply["params"]["exceptionDetails"])[:500])

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

    def text(self, selector: str) -> str:
        """The rendered text of the first element matching a CSS selector ('' if none)."""
        found = self.evaluate(f"document.querySelector({json.dumps(selector)})?.innerText ?? ''")
        return str(found)


def chromium_binary() -> str:
    """Debian's chromium, or skip the test that needs it."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.skip("needs Debian's chromium (apt-get install -y chromium)")
    return binary


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[Chromium]:
    """Debian's chromium, headless, with a fresh profile."""
    browser = Chromium(chromium_binary(), tmp_path / "profile")
    yield browser
    browser.close()


@contextlib.contextmanager
def dashboard_open(
    chromium: Chromium, store: SqlStore, url: str, ready_timeout: float = 60.0
) -> Iterator[LiveServer]:
    """The API on `store` (the test settings for database `url`) served by uvicorn, its
    dashboard open in `chromium` and ready; on the way out the server stops and the store
    closes."""
    server = start_server(create_app(api_settings(url), store=store))
    try:
        chromium.navigate(server.url + "/")
        chromium.wait_for("document.body.dataset.ready === 'true'", timeout=ready_timeout)
        yield server
    finally:
        stop_server(server)
        store.close()

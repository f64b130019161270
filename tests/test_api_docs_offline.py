"""`/docs` and `/redoc` work with no internet: headless Chromium, the network cut off but for
loopback, must render every operation from assets the API serves itself (fastapi-offline).

Two fences keep the browser on loopback: every host name but 127.0.0.1 fails to resolve, and
every request not bypassing the proxy goes to a trap on a free loopback port that records what
it was asked for and answers nothing. The DevTools network log lists every request the page
made, failed ones included; all must be to the server under test (or `data:`/`blob:` URLs).
The trap also hears Chromium's own services (updates, time, accounts), so what it must never
hear is the hosts FastAPI's stock doc pages load from (`CDN_HOSTS`, read from FastAPI's own
defaults). As a control, FastAPI's stock docs page, under the same fences, renders nothing
and is caught by both asking for its CDN: the fences are not merely decorative.
"""

import contextlib
import inspect
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html

from api.app import create_app
from tests.api_fixtures import start_server, stop_server, test_settings
from tests.chromium import Chromium, chromium_binary

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _stock_hosts() -> set[str]:
    """The hosts of every URL FastAPI's stock /docs and /redoc pages load by default."""
    hosts = {"fonts.googleapis.com", "fonts.gstatic.com"}  # ReDoc's web fonts
    for page in (get_swagger_ui_html, get_redoc_html):
        for parameter in inspect.signature(page).parameters.values():
            if isinstance(parameter.default, str) and parameter.default.startswith("https://"):
                hosts.add(urlsplit(parameter.default).hostname or "")
    return hosts


CDN_HOSTS = _stock_hosts()


class Trap:
    """A listening socket that records the first line of every connection and closes it."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.socket.getsockname()[1]
        self.asked: list[str] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return  # closed
            with connection:
                connection.settimeout(2)
                try:
                    first = connection.recv(4096).split(b"\r\n", 1)[0]
                except OSError:
                    first = b"<nothing>"
                self.asked.append(first.decode("latin-1"))

    def close(self) -> None:
        with contextlib.suppress(OSError):  # wakes the `accept`, which a close alone does not
            self.socket.shutdown(socket.SHUT_RDWR)
        self.socket.close()
        self._thread.join(timeout=5)
        assert not self._thread.is_alive(), "the trap's thread still serves"


class WatchedChromium(Chromium):
    """Chromium that also notes the URL of every request its page makes."""

    requested: list[str]

    def _note(self, reply: dict[str, Any]) -> None:
        super()._note(reply)
        if reply.get("method") == "Network.requestWillBeSent":
            self.__dict__.setdefault("requested", []).append(reply["params"]["request"]["url"])


@pytest.fixture
def trap() -> Iterator[Trap]:
    made = Trap()
    yield made
    made.close()


@pytest.fixture
def offline(tmp_path: Path, trap: Trap) -> Iterator[WatchedChromium]:
    """Headless Chromium that can reach 127.0.0.1 and nothing else."""
    browser = WatchedChromium(
        chromium_binary(),
        tmp_path / "profile",
        flags=(
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
            f"--proxy-server=http://127.0.0.1:{trap.port}",  # loopback bypasses it
        ),
    )
    browser.requested = []
    browser.call("Network.enable", session=True)
    yield browser
    browser.close()


def cdn_asks(trap: Trap) -> list[str]:
    """What the trap was asked of a CDN host (Chromium's own services aside)."""
    return [line for line in trap.asked if any(host in line for host in CDN_HOSTS)]


def off_loopback(urls: list[str], origin: str) -> list[str]:
    """The requests that went anywhere but the server under test."""
    return [url for url in urls if not url.startswith((origin + "/", "data:", "blob:"))]


@pytest.fixture
def api_url(tmp_path: Path) -> Iterator[str]:
    """The corridor API on a free loopback port, over an SQLite file."""
    live = start_server(create_app(test_settings(f"sqlite:///{tmp_path / 'docs.db'}")))
    yield live.url
    stop_server(live)


def operations(url: str) -> int:
    """How many operations the OpenAPI document lists."""
    document = httpx.get(f"{url}/openapi.json").json()
    methods = {"get", "put", "post", "delete", "patch", "head", "options"}
    return sum(len(methods & set(item)) for item in document["paths"].values())


def test_swagger_ui_renders_every_operation_with_the_network_off(
    offline: WatchedChromium, trap: Trap, api_url: str
) -> None:
    expected = operations(api_url)
    assert expected >= 10
    offline.navigate(f"{api_url}/docs")
    shown = offline.wait_for(
        f"document.querySelectorAll('.opblock').length >= {expected}"
        " && document.querySelectorAll('.opblock').length",
        timeout=60,
    )
    assert shown == expected
    assert "Corridor twin API" in offline.text(".information-container .title")
    assert offline.errors == []
    assert any(url.endswith("/swagger-ui-bundle.js") for url in offline.requested)
    assert off_loopback(offline.requested, api_url) == []
    assert cdn_asks(trap) == []


def test_redoc_renders_every_operation_with_the_network_off(
    offline: WatchedChromium, trap: Trap, api_url: str
) -> None:
    expected = operations(api_url)
    offline.navigate(f"{api_url}/redoc")
    shown = offline.wait_for(
        "document.querySelectorAll('[data-section-id^=\"operation/\"]').length",
        timeout=60,
    )
    assert shown == expected
    assert offline.errors == []
    assert any(url.endswith("/redoc.standalone.js") for url in offline.requested)
    assert off_loopback(offline.requested, api_url) == []
    assert cdn_asks(trap) == []


def test_control_fastapis_own_docs_page_stays_blank_and_is_caught_asking_its_cdn(
    offline: WatchedChromium, trap: Trap
) -> None:
    plain = FastAPI(title="control")
    plain.get("/ping")(lambda: {"pong": True})
    live = start_server(plain)
    try:
        offline.navigate(f"{live.url}/docs")
        offline.wait_for("document.readyState === 'complete'", timeout=30)
        assert offline.evaluate("document.querySelectorAll('.opblock').length") == 0
        outside = off_loopback(offline.requested, live.url)
        assert outside, "the control page asked for nothing outside: the test proves nothing"
        hosts = {urlsplit(address).hostname for address in outside}
        assert hosts <= CDN_HOSTS
        assert {host for host in hosts if any(host in line for line in cdn_asks(trap))} == hosts
    finally:
        stop_server(live)

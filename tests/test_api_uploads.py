"""Uploads are refused before they cost anything: the key first, then the size while reading.

A real uvicorn server on a loopback port receives a 300 MB body generated as a stream (never
written to disk by the test). A counter wrapped around the application records every body
byte the server hands it, and the temporary directory (where the replay spool lives and where
a form parser would spool) is measured afterwards.
"""

import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.app import create_app
from api.store.sql_store import SqlStore
from tests.api_fixtures import TEST_KEY, LiveServer, start_server, stop_server, test_settings

pytestmark = pytest.mark.slow
MB = 1024 * 1024
BOUNDARY = "corridor-upload-boundary"
HUGE = 300 * MB


class BodyCounter:
    """An ASGI wrapper counting the request body bytes the server passes to the app."""

    def __init__(self, app: ASGIApp, counts: dict[str, int]) -> None:
        self.app = app
        self.counts = counts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counting() -> Message:
            message = await receive()
            self.counts["read"] += len(message.get("body", b""))
            return message

        async def noting(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.counts["status"] = message["status"]
            await send(message)

        await self.app(scope, counting, noting)


def multipart_stream(total: int, produced: list[int], name: str = "big.jsonl") -> Iterator[bytes]:
    """A multipart body with a `log` part of `total` bytes, generated 64 KiB at a time."""
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="log"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    chunk = b'{"type": "padding"}\n' * 3277  # 65,540 bytes
    while produced[0] < total:
        piece = chunk[: total - produced[0]]
        produced[0] += len(piece)
        yield piece
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def disk_bytes(directory: Path) -> int:
    """Bytes in all files under `directory`."""
    return sum(path.stat().st_size for path in directory.rglob("*") if path.is_file())


@pytest.fixture
def tmp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary directory of the test's own, where the spool and any temporary file go."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


@pytest.fixture
def served(
    store: SqlStore, database_url: str, tmp_root: Path
) -> Iterator[tuple[LiveServer, dict[str, int]]]:
    """The API (upload limit 1 MB) behind uvicorn, with the body bytes it reads counted."""
    app = create_app(test_settings(database_url, max_upload_mb=1), store=store)
    counts = {"read": 0, "status": 0}
    app.add_middleware(BodyCounter, counts=counts)
    live = start_server(app)
    yield live, counts
    stop_server(live)


def post_stream(live: LiveServer, body: Iterator[bytes], headers: dict[str, str]) -> int | None:
    """POST the streamed body; the status, or None when the server closed before answering."""
    content_type = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    try:
        response = httpx.post(
            f"{live.url}/replays", content=body, headers={**content_type, **headers}, timeout=60
        )
    except httpx.TransportError:  # refused mid-body: the server closes the connection
        return None
    return response.status_code


def test_an_upload_without_a_key_is_refused_before_1_mb_is_read(
    served: tuple[LiveServer, dict[str, int]], tmp_root: Path
) -> None:
    live, counts = served
    produced = [0]
    status = post_stream(live, multipart_stream(HUGE, produced), {})
    assert counts["status"] == 401
    assert status in (401, None)
    assert counts["read"] < MB, f"the server read {counts['read']} bytes before refusing"
    assert produced[0] < HUGE
    assert disk_bytes(tmp_root) == 0


def test_an_upload_over_the_limit_is_413_at_the_limit_and_leaves_nothing(
    served: tuple[LiveServer, dict[str, int]], tmp_root: Path
) -> None:
    live, counts = served
    produced = [0]
    status = post_stream(live, multipart_stream(HUGE, produced), {"X-API-Key": TEST_KEY})
    assert counts["status"] == 413
    assert status in (413, None)
    assert MB < counts["read"] < MB + 256 * 1024, counts
    assert produced[0] < HUGE
    assert disk_bytes(tmp_root) == 0
    with httpx.Client(base_url=live.url, headers={"X-API-Key": TEST_KEY}) as client:
        assert client.get("/replays").json() == []


def test_a_declared_length_over_the_limit_is_refused_unread(
    served: tuple[LiveServer, dict[str, int]], tmp_root: Path
) -> None:
    live, counts = served
    produced = [0]
    length = sum(len(part) for part in multipart_stream(HUGE, [0]))
    headers = {"X-API-Key": TEST_KEY, "Content-Length": str(length)}
    post_stream(live, multipart_stream(HUGE, produced), headers)
    assert counts["status"] == 413
    assert counts["read"] == 0
    assert produced[0] < HUGE
    assert disk_bytes(tmp_root) == 0


def test_a_log_under_the_limit_is_spooled_and_queued(
    served: tuple[LiveServer, dict[str, int]],
) -> None:
    live, counts = served
    produced = [0]
    status = post_stream(live, multipart_stream(MB - 1000, produced), {"X-API-Key": TEST_KEY})
    assert status == 202
    assert counts["read"] > MB - 1000


@pytest.mark.parametrize("name", ["big.csv", "a\tb.jsonl"])
def test_a_bad_file_name_is_refused_before_its_content_is_read(
    served: tuple[LiveServer, dict[str, int]], tmp_root: Path, name: str
) -> None:
    live, counts = served
    produced = [0]
    body = multipart_stream(HUGE, produced, name=name)
    status = post_stream(live, body, {"X-API-Key": TEST_KEY})
    assert counts["status"] == 422
    assert status in (422, None)
    assert counts["read"] < MB
    assert disk_bytes(tmp_root) == 0

"""Limits on what clients may make the service do at once, and the answer when one is hit.

An event stream holds a connection and polls the store for as long as the client stays; a
history query reads up to `history_max_rows` snapshots. Each kind of work has a number of
slots, in total and per client address: a request that finds no slot free is refused at once
with `Retry-After` — `429 Too Many Requests` when that client holds its share, `503 Service
Unavailable` when everyone together holds all of them — instead of queueing until the service
is slow for everyone. The client address is the one uvicorn reports (behind a proxy, run
uvicorn with `--proxy-headers` so it is the client's, not the proxy's).
"""

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import Request, status
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

UNKNOWN_CLIENT = "unknown"


class LimitExceededError(Exception):
    """No slot is free for this client: answer `status` with `Retry-After`."""

    def __init__(self, status_code: int, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.retry_after_s = retry_after_s

    def response(self) -> JSONResponse:
        """The refusal as the API answers it."""
        return JSONResponse(
            {"detail": str(self)},
            status_code=self.status_code,
            headers={"Retry-After": str(self.retry_after_s)},
        )


class ClientSlots:
    """At most `total` holders at once, and at most `per_client` from one client address."""

    def __init__(self, what: str, *, total: int, per_client: int, retry_after_s: int) -> None:
        self.what = what
        self.total = total
        self.per_client = per_client
        self.retry_after_s = retry_after_s
        self._held: Counter[str] = Counter()
        self._lock = threading.Lock()

    def acquire(self, client: str) -> None:
        """Take a slot for `client`, or raise LimitExceededError (nothing taken)."""
        with self._lock:
            if self._held[client] >= self.per_client:
                raise self._refusal(
                    status.HTTP_429_TOO_MANY_REQUESTS,
                    f"this client already has {self.per_client} {self.what} open",
                )
            if self._held.total() >= self.total:
                raise self._refusal(
                    status.HTTP_503_SERVICE_UNAVAILABLE,
                    f"the service is serving its limit of {self.total} {self.what}",
                )
            self._held[client] += 1

    def release(self, client: str) -> None:
        """Give back a slot taken by `client`."""
        with self._lock:
            self._held[client] -= 1
            if self._held[client] <= 0:
                del self._held[client]

    def in_use(self) -> int:
        """Slots held now."""
        with self._lock:
            return self._held.total()

    @contextmanager
    def hold(self, client: str) -> Iterator[None]:
        """A slot for the duration of the block."""
        self.acquire(client)
        try:
            yield
        finally:
            self.release(client)

    def _refusal(self, status_code: int, message: str) -> LimitExceededError:
        return LimitExceededError(
            status_code, f"{message}: retry in {self.retry_after_s} s", self.retry_after_s
        )


def client_address(scope: Scope) -> str:
    """The client's address as the server saw it."""
    client = scope.get("client")
    return str(client[0]) if client else UNKNOWN_CLIENT


class StreamLimitMiddleware:
    """Holds a slot for each open event stream at `path`, from the first byte to the last.

    A middleware rather than a dependency: it sees the connection end however it ends
    (client gone, server stopping, an error), so a slot is never lost.
    """

    def __init__(self, app: ASGIApp, slots: ClientSlots, path: str) -> None:
        self.app = app
        self.slots = slots
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse the stream when no slot is free; else hold one while it is open."""
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        client = client_address(scope)
        try:
            self.slots.acquire(client)
        except LimitExceededError as refusal:
            await refusal.response()(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.slots.release(client)


async def limit_exceeded(_request: Request, error: Exception) -> JSONResponse:
    """The exception handler for LimitExceededError raised in a route."""
    if not isinstance(error, LimitExceededError):
        raise error
    return error.response()

"""`HEAD` wherever `GET` is answered: the same status and headers, no body.

FastAPI's routes answer only the methods they declare, so `HEAD /health` was a 405. This
middleware runs a HEAD request as a GET and drops the body on the way out; once the headers
are sent it tells the application the client has gone, so an endless event stream stops too.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DISCONNECT: Message = {"type": "http.disconnect"}


class HeadAsGetMiddleware:
    """Answer `HEAD` as `GET` without the body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass anything but HEAD through untouched."""
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        finished = False

        async def headers_only(message: Message) -> None:
            nonlocal finished
            if finished:
                return
            if message["type"] == "http.response.body":
                finished = True
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        async def until_finished() -> Message:
            return DISCONNECT if finished else await receive()

        await self.app({**scope, "method": "GET"}, until_finished, headers_only)

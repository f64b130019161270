"""Who may read and who may change things.

Reads are open unless a read token is configured; then a request must show the token (or the
API key) as a bearer token, an `X-API-Key` header or the dashboard's `corridor_token` cookie.
Every mutating endpoint needs the API key in `X-API-Key`. Comparisons are constant-time, and
no key is ever put in a message or a log line.
"""

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import APIKeyCookie, APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.settings import ApiSettings

api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="the API key (mutating endpoints)"
)
bearer_token = HTTPBearer(auto_error=False, description="the read token, when reads are protected")
token_cookie = APIKeyCookie(
    name="corridor_token", auto_error=False, description="the read token, set by the dashboard"
)


def settings_of(request: Request) -> ApiSettings:
    """The settings the app was created with."""
    settings: ApiSettings = request.app.state.settings
    return settings


def _matches(offered: str | None, secret: str) -> bool:
    if not offered or not secret:
        return False
    return secrets.compare_digest(offered.encode("utf-8"), secret.encode("utf-8"))


async def require_reader(
    request: Request,
    key: Annotated[str | None, Security(api_key_header)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_token)],
    cookie: Annotated[str | None, Security(token_cookie)],
) -> None:
    """Let the request read if reads are open, or it shows the read token or the API key."""
    settings = settings_of(request)
    if settings.reads_open:
        return
    token = settings.read_token.get_secret_value() if settings.read_token else ""
    api_key = settings.api_key.get_secret_value()
    offered = (key, bearer.credentials if bearer else None, cookie)
    if any(_matches(value, token) or _matches(value, api_key) for value in offered):
        return
    raise HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        "reads need the read token (Authorization: Bearer ...) or the API key",
        headers={"WWW-Authenticate": "Bearer"},
    )


async def require_api_key(
    request: Request, key: Annotated[str | None, Security(api_key_header)]
) -> None:
    """Let the request change things only with the configured API key in `X-API-Key`."""
    configured = settings_of(request).api_key.get_secret_value()
    if not configured:
        raise _refuse(status.HTTP_403_FORBIDDEN, "no API key is configured on this server")
    if not key:
        raise _refuse(status.HTTP_401_UNAUTHORIZED, "this endpoint needs the X-API-Key header")
    if not _matches(key, configured):
        raise _refuse(status.HTTP_403_FORBIDDEN, "the X-API-Key is not valid")


def _refuse(code: int, message: str) -> HTTPException:
    """A refusal that closes the connection: the body (an upload, maybe gigabytes) is left
    unread, and the server should not go on receiving it to keep the connection alive."""
    return HTTPException(code, message, headers={"Connection": "close"})


ReaderAccess = Depends(require_reader)
KeyAccess = Depends(require_api_key)

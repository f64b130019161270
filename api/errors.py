"""Refusals read the same everywhere: `{"detail": "<what>: <why>"}`.

FastAPI's own validation errors are a list of objects; this service answers every 4xx with one
message naming the offending parameter (`query.window: Input should be ...`), so a client, a
log line or an operator reading a curl output sees at once what to fix.
"""

import logging
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.routing import Match

from api.responses import ErrorMessage

log = logging.getLogger(__name__)

VALIDATION_RESPONSE: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorMessage, "description": "a parameter or field is malformed (named)"}
}
DATABASE_DOWN = (OperationalError, InterfaceError, PoolTimeoutError)
"""What SQLAlchemy raises when the database cannot be reached (not when a query is wrong)."""
DATABASE_RETRY_AFTER_S = 5
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def describe(error: RequestValidationError) -> str:
    """One line per problem: where (query.window, body.log) and why."""
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item.get("loc", ()))
        problems.append(f"{where}: {item.get('msg', 'invalid')}")
    return "; ".join(problems) or "invalid request"


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method some route answers at `path` (HEAD wherever GET is: see api.head)."""
    allowed = {
        method
        for method in METHODS
        if any(route.matches(_probe(path, method))[0] == Match.FULL for route in app.router.routes)
    }
    if "GET" in allowed:
        allowed.add("HEAD")
    return sorted(allowed)


def _probe(path: str, method: str) -> dict[str, Any]:
    """A bare request scope, so matching leaves the real request's scope alone."""
    return {"type": "http", "path": path, "root_path": "", "method": method, "headers": []}


async def method_not_allowed(request: Request, _error: Exception) -> JSONResponse:
    """A 405 whose `Allow` lists every method of the path (not just the first route's)."""
    allowed = ", ".join(allowed_methods(request.app, request.url.path))
    return JSONResponse(
        {"detail": f"{request.method} is not allowed here; allowed: {allowed}"},
        status_code=status.HTTP_405_METHOD_NOT_ALLOWED,
        headers={"Allow": allowed},
    )


async def database_unavailable(_request: Request, error: Exception) -> JSONResponse:
    """A 503 in JSON, like every other refusal, while the database cannot be reached."""
    log.warning("database unavailable: %s", type(error).__name__)
    return JSONResponse(
        {"detail": f"the database is unavailable ({type(error).__name__}): try again shortly"},
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_S)},
    )


async def validation_error(_request: Request, error: Exception) -> JSONResponse:
    """A 422 whose detail is a readable message (the input itself is not echoed)."""
    message = describe(error) if isinstance(error, RequestValidationError) else str(error)
    return JSONResponse({"detail": message}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


async def upload_refused(_request: Request, error: Exception) -> JSONResponse:
    """A refused upload (too large, a bad field, a broken body), named."""
    code = getattr(error, "status_code", status.HTTP_422_UNPROCESSABLE_CONTENT)
    # Close the connection: the rest of the body is not read, and must not be drained.
    return JSONResponse({"detail": str(error)}, status_code=code, headers={"Connection": "close"})

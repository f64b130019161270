"""Refusals read the same everywhere: `{"detail": "<what>: <why>"}`.

FastAPI's own validation errors are a list of objects; this service answers every 4xx with one
message naming the offending parameter (`query.window: Input should be ...`), so a client, a
log line or an operator reading a curl output sees at once what to fix.
"""

from typing import Any

from fastapi import Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from api.responses import ErrorMessage

VALIDATION_RESPONSE: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorMessage, "description": "a parameter or field is malformed (named)"}
}


def describe(error: RequestValidationError) -> str:
    """One line per problem: where (query.window, body.log) and why."""
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item.get("loc", ()))
        problems.append(f"{where}: {item.get('msg', 'invalid')}")
    return "; ".join(problems) or "invalid request"


async def method_not_allowed(request: Request, _error: Exception) -> JSONResponse:
    """A 405 whose `Allow` lists every method of the path (not just the first route's)."""
    path = request.url.path
    allowed = {
        method
        for route in request.app.routes
        if isinstance(route, APIRoute) and route.path_regex.match(path)
        for method in route.methods or ()
    }
    return JSONResponse(
        {"detail": f"{request.method} is not allowed here; allowed: {', '.join(sorted(allowed))}"},
        status_code=status.HTTP_405_METHOD_NOT_ALLOWED,
        headers={"Allow": ", ".join(sorted(allowed))},
    )


async def validation_error(_request: Request, error: Exception) -> JSONResponse:
    """A 422 whose detail is a readable message (the input itself is not echoed)."""
    message = describe(error) if isinstance(error, RequestValidationError) else str(error)
    return JSONResponse({"detail": message}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)

"""Error responses shared by the routers, so each documents the 4xx and 5xx it may answer."""

from typing import Any

from api.responses import ErrorMessage

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorMessage}}
UNAUTHORISED: dict[int | str, dict[str, Any]] = {401: {"model": ErrorMessage}}
REFUSED: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorMessage},
    403: {"model": ErrorMessage},
}
RETRY_AFTER: dict[str, Any] = {
    "Retry-After": {
        "description": "seconds to wait before trying again",
        "schema": {"type": "integer"},
    }
}
UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {
        "model": ErrorMessage,
        "description": "the database cannot be reached (or a service-wide limit is hit)",
        "headers": RETRY_AFTER,
    }
}
READ_ERRORS: dict[int | str, dict[str, Any]] = {**UNAUTHORISED, **UNAVAILABLE}
"""What any read may answer besides its own errors: 401 without the read token, 503 while
the database is down."""
BUSY: dict[int | str, dict[str, Any]] = {
    429: {
        "model": ErrorMessage,
        "description": "this client holds its share of the limit (see docs/api.md)",
        "headers": RETRY_AFTER,
    },
    503: {
        "model": ErrorMessage,
        "description": "the service-wide limit is hit, or the database cannot be reached",
        "headers": RETRY_AFTER,
    },
}
PAST: dict[int | str, dict[str, Any]] = {
    422: {
        "model": ErrorMessage,
        "description": "`at` before the oldest stored twin snapshot, or after the newest watermark",
    },
    503: {
        "model": ErrorMessage,
        "description": "too many past states being rebuilt, or the database cannot be reached",
        "headers": RETRY_AFTER,
    },
}
"""What a `?at=` read may answer besides the others (`api.past_views`)."""

"""Error responses shared by the routers, so each documents the 4xx it may answer."""

from typing import Any

from api.responses import ErrorMessage

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorMessage}}
UNAUTHORISED: dict[int | str, dict[str, Any]] = {401: {"model": ErrorMessage}}
REFUSED: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorMessage},
    403: {"model": ErrorMessage},
}

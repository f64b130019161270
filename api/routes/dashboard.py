"""The dashboard page: one HTML file; its script and styles are served from `/static`."""

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

STATIC = Path(__file__).resolve().parent.parent / "static"

router = APIRouter(include_in_schema=False)


@router.get("/")
async def dashboard() -> FileResponse:
    """The operators' dashboard (data comes from the API, live updates from /stream/kpis)."""
    return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

"""KPI answers: the latest snapshot of a window (cached bytes), and history in interval buckets.

History is for charts: of all snapshots of a window inside `[from, to]`, each interval bucket
(aligned to the Unix epoch in UTC, so buckets are the same whoever asks) keeps its last one.
Times outside 2000-2099 are refused, like event times, so bucket arithmetic cannot overflow,
and a range holding more than `max_rows` snapshots is refused (422: narrow it) after reading
at most that many rows, so one request's work is bounded however wide its range.
"""

import re
from datetime import UTC, datetime, timedelta

from fastapi import HTTPException, status
from sqlalchemy import Engine

from api.kpi_cache import TtlCache
from api.responses import HistoryPoint, KpiHistory, KpiView
from api.store import readers
from api.store.sql_store import utc_now
from api.store.tables import KpiSnapshot

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
MAX_POINTS = 2000
DEFAULT_SPAN = timedelta(hours=24)
_INTERVAL = re.compile(r"([1-9][0-9]{0,3})(m|h|d)")
_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}


def unprocessable(message: str) -> HTTPException:
    """A 422 naming what is wrong with the request."""
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, message)


def parse_interval(text: str) -> timedelta:
    """'15m', '1h', '1d' -> a timedelta (422 otherwise)."""
    match = _INTERVAL.fullmatch(text)  # fullmatch: `$` lets a trailing newline in
    if match is None:
        raise unprocessable(
            f"interval: expected a number and m, h or d (like 15m, 1h), got {text!r}"
        )
    return int(match.group(1)) * _UNITS[match.group(2)]


def snapshot_json(snapshot: KpiSnapshot) -> bytes:
    """A stored snapshot as the API's JSON (validated against the typed model)."""
    view = KpiView.model_validate(snapshot.model_dump())
    return view.model_dump_json(by_alias=True).encode("utf-8")


def latest_json(engine: Engine, cache: TtlCache, *, scope: str, window: str) -> bytes:
    """The latest snapshot's JSON, from the cache when fresh (404 when there is none yet)."""
    cached = cache.get((scope, window))
    if cached is not None:
        return cached
    snapshot = readers.latest_snapshot(engine, scope=scope, window=window)
    if snapshot is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"no KPI snapshot for {scope} over {window} yet: is the twin worker running?",
        )
    body = snapshot_json(snapshot)
    cache.put((scope, window), body)
    return body


def history(
    engine: Engine,
    *,
    scope: str,
    window: str,
    start: datetime | None,
    end: datetime | None,
    interval: str,
    max_rows: int,
) -> KpiHistory:
    """The last snapshot per interval bucket in `[start, end]` (default: the latest 24 h)."""
    step = parse_interval(interval)
    for name, moment in (("from", start), ("to", end)):
        if moment is not None and not EARLIEST <= moment < LATEST:
            raise unprocessable(f"{name}: {moment.isoformat()} is outside 2000-2099")
    if end is None:
        latest = readers.latest_snapshot(engine, scope=scope, window=window)
        end = latest.as_of if latest is not None else utc_now()
    start = start if start is not None else end - DEFAULT_SPAN
    start, end = start.astimezone(UTC), end.astimezone(UTC)  # answers are all in UTC
    if start > end:
        raise unprocessable(f"from ({start.isoformat()}) is after to ({end.isoformat()})")
    if (end - start) / step > MAX_POINTS:
        raise unprocessable(f"from..to / interval gives more than {MAX_POINTS} points")
    rows = readers.snapshots_between(
        engine, scope=scope, window=window, start=start, end=end, limit=max_rows + 1
    )
    if len(rows) > max_rows:
        raise unprocessable(
            f"from..to holds more than {max_rows} snapshots of {window}: narrow the range"
        )
    points: dict[datetime, KpiSnapshot] = {}
    for row in rows:
        points[_bucket(row.as_of, step)] = row
    return KpiHistory.model_validate(
        {
            "scope": scope,
            "window": window,
            "interval": interval,
            "from": start,
            "to": end,
            "points": [
                HistoryPoint.model_validate(
                    {"bucket": bucket, "as_of": row.as_of, "kpis": row.kpis}
                )
                for bucket, row in points.items()
            ],
        }
    )


def _bucket(moment: datetime, step: timedelta) -> datetime:
    origin = datetime(1970, 1, 1, tzinfo=UTC)
    return origin + ((moment - origin) // step) * step

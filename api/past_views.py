"""The yard at any past moment: `GET /yards/{yard}/state?at=` and the KPIs `?at=`.

Rebuilt, not stored: the newest stored twin snapshot at or before `at`
(`api.store.twin_snapshots`) restored and the archive after it fed up to `at`
(`streams.live.past.twin_at`), in the API's thread pool. What comes back is the twin as the
worker had it at its last watermark at or before `at`: its yard state (the clock says which
moment) and its KPI windows ending at that watermark (`as_of`).

Bounded three ways: `at` before the oldest stored snapshot (the store keeps the newest
`twin_snapshots_kept`) or after the twin's newest watermark is refused (422, saying the reach);
at most `past_max_rebuilds` rebuilds run at once (503 with Retry-After beyond); answers are
cached per (what, scope, at, window) in a `cachetools.LRUCache` (the past does not change), and
the last rebuilt twins in a smaller one, so asking for a yard's state and then its KPIs at one
moment rebuilds once.
"""

import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from cachetools import LRUCache

from api.kpi_views import unprocessable
from api.limits import LimitExceededError
from api.store import twin_snapshots
from api.store.json_values import jsonable
from api.store.sql_store import SqlStore
from stations.spec import StationSpec
from streams.live import state
from streams.live.past import OutOfReachError, twin_at
from streams.live.reorder import from_micros, to_micros
from streams.live.snapshots import CORRIDOR, kpi_snapshots, yard_views
from streams.live.twin import LiveTwin

TWINS_CACHED = 2  # rebuilt twins kept (each holds a yard's whole state)


class PastViews:
    """Rebuilds and caches the twin at past moments (see the module docstring)."""

    def __init__(
        self,
        store: SqlStore,
        stations: Mapping[str, StationSpec],
        *,
        max_rebuilds: int,
        cache_size: int,
        retry_after_s: int,
    ) -> None:
        self.store, self.stations = store, stations
        self.answers: LRUCache[tuple[str, str, datetime, str], Any] = LRUCache(cache_size)
        self.twins: LRUCache[datetime, LiveTwin] = LRUCache(TWINS_CACHED)
        self.lock = threading.Lock()
        self.slots = threading.BoundedSemaphore(max_rebuilds)
        self.retry_after_s = retry_after_s
        self.rebuilds = 0

    def state(self, yard: str, at: datetime) -> dict[str, Any]:
        """The yard's state as the worker had it at its last watermark at or before `at`."""
        return dict(self._answer(("state", yard, at, ""), lambda live: _state(live, yard)))

    def kpis(self, scope: str, window: str, at: datetime) -> dict[str, Any]:
        """A scope's KPIs over `window` ending at the last watermark at or before `at`."""
        key = ("kpis", scope, at, window)
        with self.lock:
            found = self.answers.get(key)
        if found is None:  # every scope and window at once: they share the frames
            every = _kpis(self._twin(at))
            with self.lock:
                for (scope_, window_), answer in every.items():
                    self.answers[("kpis", scope_, at, window_)] = answer
            found = every.get((scope, window))
            if found is None:
                what = "the corridor" if scope == CORRIDOR else f"yard {scope!r}"
                raise unprocessable(f"at: the twin had no {window} KPIs of {what} then")
        return dict(found)

    def _answer(self, key: tuple[str, str, datetime, str], make: Any) -> Any:
        with self.lock:
            found = self.answers.get(key)
        if found is None:
            found = make(self._twin(key[2]))
            with self.lock:
                self.answers[key] = found
        return found

    def _twin(self, at: datetime) -> LiveTwin:
        if at.tzinfo is None:
            raise unprocessable("at: give a time zone offset (RFC 3339), e.g. 2026-01-06T08:00Z")
        at = at.astimezone(UTC)
        with self.lock:
            live = self.twins.get(at)
        if live is not None:
            return live
        if not self.slots.acquire(blocking=False):
            raise LimitExceededError(
                503, "too many past states being rebuilt; try again shortly", self.retry_after_s
            )
        try:
            live = self._rebuild(at)
        finally:
            self.slots.release()
        with self.lock:
            self.twins[at] = live
        return live

    def _rebuild(self, at: datetime) -> LiveTwin:
        stored = twin_snapshots.listed(self.store.engine)
        if not stored:
            raise unprocessable("at: no twin snapshot is stored yet, so no past state can be built")
        oldest = min(snapshot.watermark for snapshot in stored)
        usable = [snapshot for snapshot in stored if snapshot.watermark <= at]
        if not usable:
            raise unprocessable(
                f"at: {at.isoformat()} is before the oldest stored twin snapshot "
                f"({oldest.isoformat()}); the past reaches back to it"
            )
        nearest = max(usable, key=lambda snapshot: (snapshot.watermark, snapshot.id))
        data = twin_snapshots.data(self.store.engine, nearest.id)
        if data is None:  # pruned by a worker commit in between: the next oldest may do
            raise LimitExceededError(503, "the twin snapshot was just replaced; try again", 1)
        self.rebuilds += 1
        try:
            return twin_at(
                state.decode(data),
                self.store.load_archive(after=nearest.position),
                self.stations,
                to_micros(at),
            )
        except OutOfReachError:
            raise unprocessable(
                f"at: {at.isoformat()} is after the twin's newest watermark; "
                "ask for a moment it has reached (GET /yards/{yard} has its clock)"
            ) from None


def _state(live: LiveTwin, yard: str) -> dict[str, Any]:
    states = {view["yard"]: view for view in _yard_states(live)}
    if yard not in states:
        raise unprocessable(f"at: the twin had no state of yard {yard!r} then")
    return states[yard]


def _yard_states(live: LiveTwin) -> list[dict[str, Any]]:
    states, _reefers = yard_views(live)
    return [jsonable(view) for view in states]


def _kpis(live: LiveTwin) -> dict[tuple[str, str], dict[str, Any]]:
    """Every (scope, window) KPI answer of the twin at its watermark (none before one)."""
    if live.watermark is None:
        return {}
    computed = datetime.now(UTC)
    return {
        (snapshot.scope, snapshot.window): {
            "scope": snapshot.scope,
            "window": snapshot.window,
            "as_of": from_micros(live.watermark).isoformat(),
            "computed_at": computed.isoformat(),
            "kpis": jsonable(snapshot.kpis),
        }
        for snapshot in kpi_snapshots(live, live.watermark, computed)
    }

"""A small time-to-live cache of serialised KPI responses, for the endpoints polled all shift.

A KPI snapshot changes at most once per worker commit (seconds apart), while dashboards and the
corridor's "digital brain" poll much more often: serving the same bytes for a second or so
takes the database and the JSON encoder off the hot path.

Expiry and the bound are `cachetools.TTLCache`'s (an entry lives while `timer() < put + ttl`).
What is ours, and why: a lock around every call, because `TTLCache` is not thread-safe and
the cache is read on the event loop and filled from the thread pool; `ttl` 0 switching the
cache off (no `TTLCache` at all: nothing stored, no lock taken on the hot path); and `clear()`
when the stream sees a new snapshot, so the next poll shows it at once. The route reads the
cache before any thread-pool hop, so a `cachetools.cached` decorator around the loader would
not do. One cache per app (`api.services.Services`), never a module global.
"""

import threading
import time
from collections.abc import Callable, Hashable

from cachetools import TTLCache

MAX_ENTRIES = 1024
"""Entries kept at most: one per (scope, window) is needed (4 windows per yard and the
corridor); the bound only guards memory should the keys ever come from the client."""


class TtlCache:
    """Values that expire `ttl` seconds after they were put (ttl 0 disables the cache)."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        if ttl < 0:
            raise ValueError(f"ttl must be >= 0, got {ttl}")
        self.ttl = ttl
        self._items: TTLCache[Hashable, bytes] | None = (
            TTLCache(MAX_ENTRIES, ttl, clock) if ttl > 0 else None
        )
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> bytes | None:
        """The cached value, or None when absent or expired."""
        if self._items is None:
            return None
        with self._lock:
            try:
                return self._items[key]  # one lookup; `.get` would test membership first
            except KeyError:
                return None

    def put(self, key: Hashable, value: bytes) -> None:
        """Remember `value` for `ttl` seconds."""
        if self._items is not None:
            with self._lock:
                self._items[key] = value

    def clear(self) -> None:
        """Forget everything (after a write that must show at once)."""
        if self._items is not None:
            with self._lock:
                self._items.clear()

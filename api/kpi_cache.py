"""A small time-to-live cache of serialised KPI responses, for the endpoints polled all shift.

A KPI snapshot changes at most once per worker commit (seconds apart), while dashboards and the
corridor's "digital brain" poll much more often: serving the same bytes for a second or so
takes the database and the JSON encoder off the hot path. The cache is per process and
bounded by the number of (scope, window) pairs, so it needs no eviction beyond expiry.
"""

import threading
import time
from collections.abc import Callable, Hashable


class TtlCache:
    """Values that expire `ttl` seconds after they were put (ttl 0 disables the cache)."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        if ttl < 0:
            raise ValueError(f"ttl must be >= 0, got {ttl}")
        self.ttl = ttl
        self._clock = clock
        self._items: dict[Hashable, tuple[float, bytes]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> bytes | None:
        """The cached value, or None when absent or expired."""
        item = self._items.get(key)
        if item is None or item[0] <= self._clock():
            return None
        return item[1]

    def put(self, key: Hashable, value: bytes) -> None:
        """Remember `value` for `ttl` seconds."""
        if self.ttl > 0:
            with self._lock:
                self._items[key] = (self._clock() + self.ttl, value)

    def clear(self) -> None:
        """Forget everything (after a write that must show at once)."""
        with self._lock:
            self._items.clear()

"""The KPI answers' time-to-live cache (`api.kpi_cache`, over `cachetools.TTLCache`), on a
clock the test moves: expiry at exactly `ttl`, 0 as off, `clear`, and many threads at once.
"""

import threading

import pytest

from api.kpi_cache import TtlCache


class Clock:
    """A monotonic clock that only moves when told."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_value_lives_for_the_ttl_and_not_a_moment_more() -> None:
    clock = Clock()
    cache = TtlCache(1.5, clock)
    assert cache.get(("yuzui", "24h")) is None
    cache.put(("yuzui", "24h"), b"one")
    clock.now += 1.4999
    assert cache.get(("yuzui", "24h")) == b"one"
    clock.now = 101.5  # put + ttl: gone, as before cachetools
    assert cache.get(("yuzui", "24h")) is None
    cache.put(("yuzui", "24h"), b"two")  # put again: a fresh lifetime
    clock.now += 1.0
    assert cache.get(("yuzui", "24h")) == b"two"
    assert cache.get(("yuzui", "1h")) is None  # keys are (scope, window)


def test_ttl_zero_is_off_and_a_negative_ttl_is_refused() -> None:
    off = TtlCache(0.0, Clock())
    off.put("k", b"v")
    assert off.get("k") is None
    off.clear()  # harmless
    with pytest.raises(ValueError, match="ttl must be >= 0, got -1"):
        TtlCache(-1.0)


def test_clear_forgets_everything_at_once() -> None:
    cache = TtlCache(60.0, Clock())
    for scope in ("yuzui", "corridor"):
        cache.put((scope, "24h"), scope.encode())
    cache.clear()
    assert cache.get(("yuzui", "24h")) is None
    assert cache.get(("corridor", "24h")) is None


def test_many_threads_reading_writing_and_clearing_never_break_it() -> None:
    cache = TtlCache(0.001)  # the real clock: entries expire while others are put
    errors: list[BaseException] = []

    def hammer(seed: int) -> None:
        try:
            for i in range(3000):
                key = (seed * 7 + i) % 40
                cache.put(key, str(key).encode())
                found = cache.get((key + 1) % 40)
                assert found in (None, str((key + 1) % 40).encode())
                if i % 500 == 0:
                    cache.clear()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=hammer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []

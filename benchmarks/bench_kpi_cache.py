"""What the KPI cache costs per request since it is a `cachetools.TTLCache` behind a lock.

Prints, in one run, the median time of a cache hit and a miss of `api.kpi_cache.TtlCache`,
of the same on a plain locked dict with expiry times (the shape of the hand-written cache it
replaced), and of a whole cached `GET /corridor/kpis` answered in process (Starlette's test
client over an SQLite store with one snapshot per scope and window), so the cache's share of
a request can be read off side by side.

    .venv/bin/python benchmarks/bench_kpi_cache.py [--repeat 7]
"""

import argparse
import statistics
import tempfile
import threading
import time
import timeit
from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from api.kpi_cache import TtlCache
from api.settings import WINDOWS, ApiSettings
from api.store.sql_store import SqlStore
from corridor.store_contract import KpiSnapshot, TwinBatch
from stations.catalog import station_ids
from tests.api_fixtures import sample_kpis

KEY = ("corridor", "24h")


class LockedDict:
    """The replaced cache's shape: a dict of (expiry, value) and a lock on writes."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._items: dict[Hashable, tuple[float, bytes]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> bytes | None:
        item = self._items.get(key)
        if item is None or item[0] <= time.monotonic():
            return None
        return item[1]

    def put(self, key: Hashable, value: bytes) -> None:
        with self._lock:
            self._items[key] = (time.monotonic() + self.ttl, value)


def per_call_ns(call: Callable[[], object], number: int, repeat: int) -> float:
    """Median over `repeat` rounds of the time per call, nanoseconds."""
    rounds = timeit.repeat(call, number=number, repeat=repeat)
    return statistics.median(rounds) / number * 1e9


def request_us(repeat: int) -> float:
    """Median time of a cached `GET /corridor/kpis` in process, microseconds."""
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'bench.db'}"
        store = SqlStore.open(url)
        now = datetime.now(UTC)
        scopes = [*station_ids(), "corridor"]
        kpis = sample_kpis()  # a complete, valid KPI block
        snapshots = [KpiSnapshot(s, w, now, now, kpis) for s in scopes for w in WINDOWS]
        store.commit(TwinBatch("bench", {}, snapshots=snapshots))
        settings = ApiSettings(
            mode="development", database_url=url, api_key=SecretStr(""), kpi_cache_ttl_s=60.0
        )
        with TestClient(create_app(settings, store=store)) as client:
            client.get("/corridor/kpis")  # fill the cache

            def one() -> None:
                client.get("/corridor/kpis")

            micros = per_call_ns(one, 200, repeat) / 1000
        store.close()
    return micros


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="rounds per figure (median)")
    args = parser.parse_args()
    print(f"median of {args.repeat} rounds")
    print(f"{'cache':28s}{'hit ns':>10s}{'miss ns':>10s}")
    for name, cache in (("TtlCache (cachetools+lock)", TtlCache(60.0)), ("locked dict", None)):
        kept = cache if cache is not None else LockedDict(60.0)
        kept.put(KEY, b"{}")
        hit = per_call_ns(lambda c=kept: c.get(KEY), 100_000, args.repeat)
        miss = per_call_ns(lambda c=kept: c.get(("nowhere", "1h")), 100_000, args.repeat)
        print(f"{name:28s}{hit:10.0f}{miss:10.0f}")
    whole = request_us(args.repeat)
    print(f"cached GET /corridor/kpis in process: {whole:.0f} us per request")


if __name__ == "__main__":
    main()

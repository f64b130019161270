"""Load the KPI endpoints beside a trivial endpoint on one uvicorn worker, and print the figures.

A SQLite store is filled with a week of snapshots (every 15 minutes, three yards and the
corridor, four windows); `corridor api`'s app is started by uvicorn with one worker on a free
loopback port. For a fixed time per endpoint, concurrent clients (one process each, keep-alive
connections) send requests back to back; the script prints requests/s and p50/p99 latency of
`GET /health` (the trivial baseline), `GET /yards/{yard}/kpis` and `GET /corridor/kpis`, and
each KPI endpoint's rate as a share of the baseline's, measured in the same run. Targets: at
least half the baseline's rate, p99 < 50 ms. With `--no-cache` a second server runs with the
KPI cache off, to show what the cache buys.

    .venv/bin/python benchmarks/bench_api.py [--duration 8] [--concurrency 4] [--no-cache]
"""

import argparse
import http.client
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from api.store.sql_store import SqlStore
from corridor.jobs import SimulateJob, run_replication
from corridor.scenario import DEFAULT_START, Scenario
from corridor.store_contract import KpiSnapshot, TwinBatch
from stations.catalog import station_ids
from stations.spec import load_all_stations

KEY = "bench-key-3b9f0e51"
SCOPES = (*station_ids(), "corridor")
WINDOWS = ("1h", "shift", "24h", "7d")
ENDPOINTS = (("trivial GET /health", "/health"),
             ("GET /yards/tuanjiecun/kpis", "/yards/tuanjiecun/kpis"),
             ("GET /corridor/kpis", "/corridor/kpis"))  # fmt: skip


def real_kpis() -> dict[str, dict[str, Any]]:
    """Each scope's KPI block from one simulated day: the store checks the kpis.json shape."""
    job = SimulateJob(Scenario(load_all_stations()), 2026, DEFAULT_START, 1)
    report = run_replication(job).report
    return {**report["yards"], "corridor": report["corridor"]}  # type: ignore[dict-item]


def fill_store(url: str, days: int = 7) -> int:
    """A week of snapshots every 15 minutes for every scope and window; returns how many."""
    store = SqlStore.open(url)
    start = datetime(2026, 1, 5, tzinfo=UTC)
    count = 0
    blocks = real_kpis()
    for day in range(days):
        snapshots = []
        for quarter in range(96):
            as_of = start + timedelta(days=day, minutes=15 * quarter)
            snapshots += [
                KpiSnapshot(s, w, as_of, as_of, blocks[s]) for s in SCOPES for w in WINDOWS
            ]
        store.commit(TwinBatch("bench", {}, snapshots=snapshots))
        count += len(snapshots)
    store.close()
    return count


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_server(url: str, cache_ttl: float) -> tuple[subprocess.Popen[bytes], str]:
    """uvicorn, one worker, serving `create_app()` configured from the environment."""
    port = free_port()
    env = {**os.environ, "CORRIDOR_DATABASE_URL": url, "CORRIDOR_API_API_KEY": KEY,
           "CORRIDOR_API_KPI_CACHE_TTL_S": str(cache_ttl)}  # fmt: skip
    command = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory",
               "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
               "--log-level", "warning", "--no-access-log"]  # fmt: skip
    server = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return server, base
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("uvicorn did not start")


def client_loop(base: str, path: str, duration: float) -> list[float]:
    """One client: a keep-alive connection sending requests back to back; the latencies (s)."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    latencies: list[float] = []
    stop_at = time.perf_counter() + duration
    while (began := time.perf_counter()) < stop_at:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{path}: HTTP {response.status}")
        latencies.append(time.perf_counter() - began)
    connection.close()
    return latencies


def load(base: str, path: str, duration: float, concurrency: int) -> list[float]:
    """Latencies of the requests `concurrency` client processes complete in `duration` s.

    Separate processes with plain keep-alive connections, so the load generator is cheap and
    is not what limits the server (an asyncio client in one process is, on a small machine).
    """
    context = multiprocessing.get_context("spawn")
    with context.Pool(concurrency) as pool:
        parts = pool.starmap(client_loop, [(base, path, duration)] * concurrency)
    return [latency for part in parts for latency in part]


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(base: str, duration: float, concurrency: int, label: str) -> None:
    """Warm up, load each endpoint in turn, print the table."""
    for _, path in ENDPOINTS:
        load(base, path, 0.5, 2)
    print(
        f"\n{label}: {concurrency} concurrent clients, {duration:.0f} s per endpoint,"
        " 1 uvicorn worker"
    )
    print(f"{'endpoint':<30}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'vs trivial':>12}")
    baseline = None
    for name, path in ENDPOINTS:
        latencies = load(base, path, duration, concurrency)
        rate = len(latencies) / duration
        baseline = baseline or rate
        print(f"{name:<30}{rate:>10.0f}{percentile(latencies, 0.5) * 1e3:>10.2f}"
              f"{percentile(latencies, 0.99) * 1e3:>10.2f}{rate / baseline:>12.2f}")  # fmt: skip


def main() -> int:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per endpoint")
    parser.add_argument("--concurrency", type=int, default=4, help="client processes")
    parser.add_argument(
        "--no-cache", action="store_true", help="also measure with the KPI cache off"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-api-") as folder:
        url = f"sqlite:///{Path(folder) / 'corridor.db'}"
        began = time.perf_counter()
        stored = fill_store(url)
        print(f"store: {stored} snapshots in SQLite ({time.perf_counter() - began:.1f} s to write)")
        configs = [("KPI cache 1 s (default)", 1.0)] + (
            [("KPI cache off", 0.0)] if args.no_cache else []
        )
        for label, ttl in configs:
            server, base = start_server(url, ttl)
            try:
                measure(base, args.duration, args.concurrency, label)
            finally:
                server.terminate()
                server.wait(timeout=30)
    print("\ntargets: KPI endpoints >= 0.5 x trivial req/s, p99 < 50 ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())

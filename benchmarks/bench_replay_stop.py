"""Benchmark: how long a stopping API takes with a long replay under way, per source tree.

Each run is a child process on one tree's code (`--tree NAME=PATH`, its code on `PYTHONPATH`):
the API on a fresh SQLite file, through its lifespan (`TestClient`), is given the replay of
`--days` generated days (the same gzipped log every run) and one more queued behind it; once
the first is running in its job process, the lifespan ends. The child prints the stop's wall
time, when the job process was gone (from the stop's start) and how the jobs ended. The trees
are alternated `--rounds` times; the parent prints every run, the median stop per tree and its
ratio to the first tree, with the load average before and after:

    PYTHONPATH=. .venv/bin/python benchmarks/bench_replay_stop.py \\
        --tree main=/work/wt-replaystop-base --tree branch=. --rounds 3
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

KEY = "benchmark-key-0123456789abcdef0123"


def child(log: Path, scratch: Path) -> dict[str, Any]:
    """In the child: one API's stop with a replay under way (the tree's code is imported here)."""
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from api.app import create_app
    from api.settings import ApiSettings

    url = f"sqlite:///{scratch / 'corridor.db'}"
    settings = ApiSettings(database_url=url, api_key=SecretStr(KEY), kpi_cache_ttl_s=0.0)
    body = log.read_bytes()
    files = {"log": ("traffic.jsonl.gz", body, "application/octet-stream")}
    with TestClient(create_app(settings)) as client:
        ids = [
            client.post("/replays", files=files, headers={"X-API-Key": KEY}).json()["id"]
            for _ in range(2)
        ]
        wait(lambda: client.get(f"/replays/{ids[0]}").json()["status"] == "running")
        wait(lambda: bool(job_processes()))
        processes = job_processes()
        stopping = time.monotonic()
    stop_s = time.monotonic() - stopping
    while any(alive(process) for process in processes):
        time.sleep(0.01)
    gone_s = time.monotonic() - stopping
    with TestClient(create_app(settings)) as client:
        jobs = [client.get(f"/replays/{job_id}").json() for job_id in ids]
    ends = [f"{job['status']}: {job['error']}" for job in jobs]
    return {"stop_s": stop_s, "gone_s": gone_s, "jobs": ends, "processes": len(processes)}


def job_processes() -> list[Any]:
    """This process's job processes (not multiprocessing's resource tracker)."""
    import psutil

    return [
        process
        for process in psutil.Process().children(recursive=True)
        if "spawn_main" in " ".join(process.cmdline())
    ]


def alive(process: Any) -> bool:
    import psutil

    try:
        return bool(process.status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def wait(condition: Any, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"not so after {timeout} s")
        time.sleep(0.1)


def write_log(path: Path, days: int) -> None:
    """`days` generated days at the three yards (this tree's generator), gzipped JSONL."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from corridor.contract.eventlog import write_log as write
    from corridor.scenario import DEFAULT_START
    from corridor.traffic.generator import generate
    from stations.spec import load_all_stations

    write(generate(load_all_stations(), days=days, seed=11, start=DEFAULT_START), path)


def run(tree: str, log: Path) -> dict[str, Any]:
    """One child on `tree`'s code; its figures."""
    environment = {**os.environ, "PYTHONPATH": str(Path(tree).resolve())}
    with tempfile.TemporaryDirectory() as scratch:
        command = [sys.executable, __file__, "--child", str(log), scratch]
        done = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{tree}: {done.stderr[-2000:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", action="append", default=[], help="NAME=PATH (repeatable)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--days", type=int, default=20, help="days of traffic in the log")
    parser.add_argument("--child", nargs=2, metavar=("LOG", "SCRATCH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(Path(args.child[0]), Path(args.child[1]))))
        return
    trees = dict(given.split("=", 1) for given in args.tree or ["this=."])
    print(f"load average {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as scratch:
        log = Path(scratch) / "traffic.jsonl.gz"
        write_log(log, args.days)
        stops: dict[str, list[float]] = {name: [] for name in trees}
        for round_number in range(args.rounds):
            for name, tree in trees.items():
                figures = run(tree, log)
                stops[name].append(figures["stop_s"])
                print(f"round {round_number} {name}: {json.dumps(figures)}", flush=True)
    first = statistics.median(next(iter(stops.values())))
    for name, values in stops.items():
        middle = statistics.median(values)
        print(f"{name}: median stop {middle:.2f} s, ratio to the first tree {middle / first:.3f}")
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()

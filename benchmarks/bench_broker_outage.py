"""A worker whose broker is gone: its RSS while it waits, for one or more source trees at once.

For each `--tree` (default: this one), a real embedded broker gets a day of traffic and a
`corridor worker` process from that tree (its SQL store on SQLite, `broker_lost_exit_s` 0 so it
never gives up) reads it; once every worker has caught up, every broker is stopped and each
worker's RSS is sampled every `--every` seconds for `--seconds`. It prints the samples and each
worker's growth per second over the outage (least squares), side by side in one run, with the
load average: give `--tree /work/main` to compare the code before a change with after.

    PYTHONPATH=. python benchmarks/bench_broker_outage.py --tree . --tree /work/main --seconds 300
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))

from api.store.sql_store import SqlStore  # noqa: E402
from corridor.store_contract import ArchivedEvent  # noqa: E402
from streams.broker import EmbeddedBroker  # noqa: E402
from streams.publish import publish  # noqa: E402
from tests.broker_fixtures import SEED, generated_day, settings_env, settings_for  # noqa: E402

WORKER = [sys.executable, "-m", "tests.broker_fixtures", "worker", "--seed", str(SEED)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", type=Path, action="append", help="source tree (repeatable)")
    parser.add_argument("--seconds", type=float, default=120.0, help="outage length sampled")
    parser.add_argument("--every", type=float, default=10.0, help="seconds between samples")
    args = parser.parse_args()
    trees = [tree.resolve() for tree in (args.tree or [HERE])]
    print(f"load average {load()}")
    with tempfile.TemporaryDirectory() as scratch:
        runs = [start(tree, Path(scratch) / f"run{n}") for n, tree in enumerate(trees)]
        try:
            for _tree, _broker, worker, store, total in runs:
                wait_caught_up(worker, store, total)
            time.sleep(2.0)
            processes = [psutil.Process(worker.pid) for _t, _b, worker, _s, _n in runs]
            for _tree, broker, *_rest in runs:
                broker.stop()
            samples = sample(processes, args.seconds, args.every)
        finally:
            for _tree, broker, worker, _store, _total in runs:
                worker.terminate()
                worker.wait(60)
                broker.stop()
    report(trees, samples)
    print(f"load average {load()}")


def start(
    tree: Path, scratch: Path
) -> tuple[Path, EmbeddedBroker, "subprocess.Popen[bytes]", SqlStore, int]:
    """A broker with a day published and a worker from `tree` reading it."""
    scratch.mkdir(parents=True)
    broker = EmbeddedBroker().start()
    settings = settings_for(broker, broker_lost_exit_s=0.0)
    events = generated_day()
    publish(events, settings)
    url = f"sqlite:///{scratch / 'twin.db'}"
    store = SqlStore.open(url)
    env = {**os.environ, **settings_env(settings), "PYTHONPATH": str(tree)}
    if not has_deadline(tree):
        env.pop("CORRIDOR_KAFKA_BROKER_LOST_EXIT_S", None)
    with (scratch / "worker.log").open("wb") as sink:
        command = [*WORKER, "--store", url]
        worker = subprocess.Popen(command, cwd=tree, env=env, stdout=sink, stderr=sink)
    return tree, broker, worker, store, len(events)


def has_deadline(tree: Path) -> bool:
    """Whether the tree's settings know `broker_lost_exit_s` (older ones refuse the variable)."""
    return "broker_lost_exit_s" in (tree / "streams" / "settings.py").read_text()


def wait_caught_up(worker: "subprocess.Popen[bytes]", store: SqlStore, total: int) -> None:
    deadline = time.monotonic() + 180
    while sum(isinstance(e, ArchivedEvent) for e in store.load_archive()) < total:
        if worker.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the worker did not catch up (exit {worker.poll()})")
        time.sleep(1.0)


def sample(processes: list[psutil.Process], seconds: float, every: float) -> list[list[float]]:
    """[elapsed, rss MB of each process] every `every` seconds."""
    rows = []
    began = time.monotonic()
    while True:
        elapsed = time.monotonic() - began
        rows.append([elapsed, *(p.memory_info().rss / 1e6 for p in processes)])
        print("  " + "  ".join(f"{value:8.1f}" for value in rows[-1]), flush=True)
        if elapsed >= seconds:
            return rows
        time.sleep(every)


def report(trees: list[Path], rows: list[list[float]]) -> None:
    times = [row[0] for row in rows]
    for column, tree in enumerate(trees, start=1):
        rss = [row[column] for row in rows]
        print(f"{tree}: RSS {rss[0]:.1f} -> {rss[-1]:.1f} MB in {times[-1]:.0f} s of outage, "
              f"{slope(times, rss) * 1000:.1f} KB/s")  # fmt: skip


def slope(xs: list[float], ys: list[float]) -> float:
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


def load() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


if __name__ == "__main__":
    main()

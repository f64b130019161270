"""What the tests' empty SQLite database costs: migrated per test, or copied from one migrated
file per session (`tests/api_fixtures.py`, `database_url`), and print the figures.

Each round, side by side: a new file migrated to head (every alembic migration, as the fixture
did until 2026-11-30), and a copy of a migrated file; both then opened by `SqlStore.open` as a
test did (which checks the schema is at head), and a copy opened without that check (as the
`store` fixture now does: the app's startup still checks). Prints the median and p90 of each,
the ratios, and the machine's load average.

    .venv/bin/python benchmarks/bench_test_database.py [--rounds 30]
"""

import argparse
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from api.store.db import make_engine, upgrade
from api.store.sql_store import SqlStore


def migrated(folder: Path, name: str) -> Path:
    """A new SQLite file, every migration run on it."""
    path = folder / name
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


def timed(make: Callable[[], Path], check: bool = True) -> float:
    """Seconds to make the database and open the store on it (as a test's fixtures do),
    checking that its schema is at head or not."""
    started = time.perf_counter()
    store = SqlStore.open(f"sqlite:///{make()}", migrate=check)
    store.close()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        template = migrated(folder, "template.db")
        fresh: list[float] = []
        copied: list[float] = []
        unchecked: list[float] = []
        for round_ in range(args.rounds):
            fresh.append(timed(lambda r=round_: migrated(folder, f"fresh-{r}.db")))
            target = folder / f"copy-{round_}.db"
            copied.append(timed(lambda t=target: Path(shutil.copyfile(template, t))))
            again = folder / f"unchecked-{round_}.db"
            unchecked.append(timed(lambda t=again: Path(shutil.copyfile(template, t)), False))
    rows = (
        ("migrated per test", fresh),
        ("copied, checked", copied),
        ("copied, unchecked", unchecked),
    )
    for label, times in rows:
        ordered = sorted(times)
        p90 = ordered[int(0.9 * (len(ordered) - 1))]
        median = statistics.median(times)
        print(f"{label:18s} median {median * 1000:7.1f} ms  p90 {p90 * 1000:7.1f} ms")
    for label, times in rows[1:]:
        ratio = statistics.median(fresh) / statistics.median(times)
        print(f"ratio migrated / {label} (medians): {ratio:.1f}x over {args.rounds} rounds")
    print("load average: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()

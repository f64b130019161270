"""Benchmark: the worker's archive path, per entry: pack a batch, store it, load it back.

Generated traffic is encoded as the worker archives it (`ArchivedEvent`s of 10,000-message
batches with a clock advance each), then, medians of `--repeat` rounds:

1. `api.store.archive_segments.pack` and `unpack` of one batch (ns per entry, bytes per entry);
2. committing the batches as segments to a fresh SQLite store, and `load_archive` of them all
   (µs per entry, through SQLAlchemy and the database).

Run: `.venv/bin/python benchmarks/bench_archive.py [--events N] [--repeat R]`.
"""

import argparse
import itertools
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from api.store.archive_segments import pack, unpack
from api.store.sql_store import SqlStore
from corridor.contract.events import encode_event
from corridor.scenario import DEFAULT_START, load_scenario
from corridor.store_contract import ArchivedEvent, ArchiveEntry, ClockAdvance, TwinBatch
from corridor.traffic.generator import generate

BATCH = 10_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    batches = archive_batches(args.events)
    entries = sum(len(batch) for batch in batches)
    first = batches[0]
    packed = pack(first)
    pack_ns, unpack_ns, commit_us, load_us = [], [], [], []
    for _ in range(args.repeat):
        pack_ns.append(per_entry(lambda: pack(first), len(first)) * 1e9)
        unpack_ns.append(per_entry(lambda: unpack(packed.payload), len(first)) * 1e9)
        commit_s, load_s = sql_round(batches, entries)
        commit_us.append(commit_s * 1e6)
        load_us.append(load_s * 1e6)
    print(f"{entries:,} archive entries in {len(batches)} batches, medians of {args.repeat}")
    print(f"{'pack one batch':<40}{statistics.median(pack_ns):>10.0f} ns/entry")
    print(f"{'unpack one batch':<40}{statistics.median(unpack_ns):>10.0f} ns/entry")
    print(f"{'payload':<40}{len(packed.payload) / len(first):>10.0f} bytes/entry")
    print(f"{'commit every batch (SQLite)':<40}{statistics.median(commit_us):>10.2f} µs/entry")
    print(f"{'load_archive of them all (SQLite)':<40}{statistics.median(load_us):>10.2f} µs/entry")


def archive_batches(count: int) -> list[list[ArchiveEntry]]:
    """Generated events as the worker archives them: batches ending with a clock advance."""
    stations = load_scenario(None).stations
    events = itertools.islice(
        generate(stations, days=count // 4000 + 1, seed=1, start=DEFAULT_START), count
    )
    batches: list[list[ArchiveEntry]] = []
    for offset, event in enumerate(events):
        if offset % BATCH == 0:
            batches.append([])
        raw = encode_event(event)
        entry = ArchivedEvent(event.event_id, event.yard, event.ts, raw, "bench", 0, offset)
        batches[-1].append(entry)
        if offset % BATCH == BATCH - 1:
            batches[-1].append(ClockAdvance(event.ts))
    return batches


def sql_round(batches: list[list[ArchiveEntry]], entries: int) -> tuple[float, float]:
    """Seconds per entry to commit every batch to a fresh SQLite store, then to load them all."""
    with tempfile.TemporaryDirectory() as scratch:
        store = SqlStore.open(f"sqlite:///{Path(scratch) / 'archive.db'}")
        commit = per_entry(lambda: commit_all(store, batches), entries)
        load = per_entry(lambda: sum(1 for _ in store.load_archive()), entries)
        store.close()
    return commit, load


def commit_all(store: SqlStore, batches: list[list[ArchiveEntry]]) -> None:
    for index, batch in enumerate(batches):
        store.commit(TwinBatch("bench", {("bench", 0): (index + 1) * BATCH}, archived=batch))


def per_entry(work: Callable[[], object], entries: int) -> float:
    """Seconds per entry of one call of `work`."""
    began = time.perf_counter()
    work()
    return (time.perf_counter() - began) / entries


if __name__ == "__main__":
    main()

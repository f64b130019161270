"""Snapshot and restore of the twin after a week and four weeks of the three yards.

Generates `--days` of traffic (7 and 28 by default), replays it through the twin, then times,
`--repeat` times each: the snapshot (`Twin.snapshot`: the yards' state read into data), its
encoding to bytes, the decoding, and the restore (`Twin.restore`: a running twin built from
it). Prints the snapshot's size (and how much of it is the records emitted so far) and the
median of each, side by side per run length; a restart of the live twin would pay decode +
restore, against a replay of every archived event (the last column, timed in the same run).

    .venv/bin/python benchmarks/bench_snapshot.py --days 7 28
"""

import argparse
import statistics
import time
from collections.abc import Callable
from typing import TypeVar

import msgspec

from corridor.engine import snapshots
from corridor.engine.twin import Twin, replay
from corridor.runtime import tune_gc_for_a_long_lived_twin
from corridor.scenario import DEFAULT_START
from corridor.traffic.generator import generate
from stations.snapshot_format import RecordsState
from stations.spec import load_all_stations

T = TypeVar("T")


def timed(repeat: int, work: Callable[[], T]) -> tuple[float, T]:
    """Median seconds of `repeat` calls, and the last call's result."""
    runs, result = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        result = work()
        runs.append(time.perf_counter() - began)
    assert result is not None
    return statistics.median(runs), result


def measure(days: int, repeat: int, seed: int) -> dict[str, float]:
    stations = load_all_stations()
    events = list(generate(stations, days=days, seed=seed, start=DEFAULT_START))
    replay_s, twin = timed(1, lambda: replay(events, stations, seed))
    snapshot_s, snapshot = timed(repeat, twin.snapshot)
    encode_s, data = timed(repeat, lambda: snapshots.encode(snapshot))
    decode_s, decoded = timed(repeat, lambda: snapshots.decode(data))
    restore_s, _ = timed(repeat, lambda: Twin.restore(decoded, stations))
    records = sum(
        len(
            msgspec.msgpack.encode(
                RecordsState(*[getattr(y.records, f) for f in RecordsState.__struct_fields__])
            )
        )
        for y in snapshot.yards.values()
    )
    return {
        "events": len(events),
        "size_mb": len(data) / 1e6,
        "records_mb": records / 1e6,
        "snapshot_s": snapshot_s,
        "encode_s": encode_s,
        "decode_s": decode_s,
        "restore_s": restore_s,
        "replay_s": replay_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, nargs="+", default=[7, 28])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    tune_gc_for_a_long_lived_twin()
    rows = {days: measure(days, args.repeat, args.seed) for days in args.days}
    print(f"median of {args.repeat} runs each; replay: one run of every event, for comparison")
    header = (
        "days",
        "events",
        "size MB",
        "of it records",
        "snapshot s",
        "encode s",
        "decode s",
        "restore s",
        "decode+restore s",
        "replay s",
        "replay / (decode+restore)",
    )
    print(" | ".join(header))
    for days, row in rows.items():
        load = row["decode_s"] + row["restore_s"]
        print(
            f"{days} | {row['events']:,.0f} | {row['size_mb']:.1f} | {row['records_mb']:.1f} | "
            f"{row['snapshot_s']:.3f} | {row['encode_s']:.3f} | {row['decode_s']:.3f} | "
            f"{row['restore_s']:.3f} | {load:.3f} | {row['replay_s']:.2f} | "
            f"{row['replay_s'] / load:.1f}"
        )


if __name__ == "__main__":
    main()

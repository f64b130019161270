"""Benchmark: generating the three yards' traffic and writing/reading it as event logs.

    .venv/bin/python benchmarks/bench_generate.py [--days 30] [--repeat 3] [--seed 1]

Prints, for each step, the median of `--repeat` runs in CPU seconds, events per second and
microseconds per event, beside a baseline measured in the same run: bare msgspec encoding and
decoding of the same events (schema only: no check digits, yards or time range) and no file,
the ceiling for writing and reading. It ends with the projected time for a year of generation
plus JSONL writing (the target is well under 20 s on one core).
"""

import argparse
import itertools
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import msgspec

from corridor.contract.eventlog import LogError, read_log, write_log
from corridor.contract.events import Event
from corridor.traffic.generator import generate
from stations.spec import load_all_stations

START = datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=8)))
_BASELINE_EVENTS = 300_000  # enough for a stable rate, small enough to hold in memory


def main() -> None:
    parser = argparse.ArgumentParser(description="generate and log the corridor's traffic")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    stations = load_all_stations()

    def traffic() -> Iterator[Event]:
        return generate(stations, days=args.days, seed=args.seed, start=START)

    def writer(path: Path) -> Callable[[], int]:
        return lambda: write_log(traffic(), path)

    def reader(path: Path) -> Callable[[], int]:
        return lambda: _read(path)

    count = sum(1 for _ in traffic())
    print(f"bench_generate: {args.days} days, 3 yards, seed {args.seed}: {count:,} events")
    print(f"median of {args.repeat} runs; control loop: {_control_ns():.1f} ns per list item\n")
    print(f"{'step':<44}{'cpu s':>9}{'events/s':>12}{'us/event':>10}")
    with tempfile.TemporaryDirectory() as folder:
        logs = {suffix: Path(folder) / f"log{suffix}" for suffix in (".jsonl", ".parquet")}
        generation = _row("generate", lambda: sum(1 for _ in traffic()), count, args.repeat)
        written = {
            suffix: _row(f"generate + write {suffix}", writer(path), count, args.repeat)
            for suffix, path in logs.items()
        }
        for suffix, path in logs.items():
            _row(f"read {suffix} (decode + validate)", reader(path), count, args.repeat)
        kept = list(itertools.islice(traffic(), _BASELINE_EVENTS))
        with logs[".jsonl"].open("rb") as log:
            lines = [line.rstrip(b"\n") for line in itertools.islice(log, _BASELINE_EVENTS)]
        sample = len(kept)
        encoder, decoder = msgspec.json.Encoder(), msgspec.json.Decoder(Event)
        print(f"baseline, the first {sample:,} of the same events, in memory:")
        _row("  msgspec encode (no file)", lambda: encoder.encode_lines(kept), sample, args.repeat)
        _row(
            "  msgspec typed decode (no semantic checks)",
            lambda: [decoder.decode(line) for line in lines],
            sample,
            args.repeat,
        )
    year = written[".jsonl"] * 365 / args.days
    print(f"\nwrite .jsonl alone: {written['.jsonl'] - generation:.2f} s")
    print(f"a year of generate + write .jsonl, projected: {year:.1f} s (target: well under 20 s)")


def _row(name: str, step: Callable[[], object], count: int, repeat: int) -> float:
    seconds = statistics.median(_timed(step) for _ in range(repeat))
    print(f"{name:<44}{seconds:>9.2f}{count / seconds:>12,.0f}{seconds / count * 1e6:>10.2f}")
    return seconds


def _timed(step: Callable[[], object]) -> float:
    """CPU seconds of this process: on a shared machine, waiting for a core is not counted."""
    began = time.process_time()
    step()
    return time.process_time() - began


def _read(path: Path) -> int:
    bad = sum(isinstance(item, LogError) for item in read_log(path))
    if bad:
        raise SystemExit(f"{path}: {bad} bad lines in a generated log")
    return bad


def _control_ns() -> float:
    """A fixed CPU-bound loop, to compare figures between machines or busy moments."""
    began = time.process_time()
    for _ in range(200):
        _ = [i * 2 for i in range(10_000)]
    return (time.process_time() - began) / 2_000_000 * 1e9


if __name__ == "__main__":
    main()

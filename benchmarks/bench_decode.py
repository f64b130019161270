"""Benchmark: `decode_event` per message, by event type, and what a too-deep message costs.

    .venv/bin/python benchmarks/bench_decode.py [--days 2] [--rounds 15] [--before TREE]

Decodes the encoded events of `--days` days of generated traffic (three yards, seed 1), type
by type, and prints the median over `--rounds` rounds of the mean ns per event, then the time
to refuse a 10 KB `truck.dispatched` whose extra field nests 5,000 deep. Times are the
thread's CPU time, so other processes on a shared machine do not count; `--statistic min`
is steadier than the median when the machine is busy. With `--before TREE`
(a checkout of another commit, e.g. `/work/main`), the same measurement runs in a subprocess
on that tree's code, alternating `--alternations` times with this tree's, and the table shows
the medians side by side with their ratio: the cost of a change to decoding, measured on the
same machine at the same time.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

from corridor.contract.events import Event, decode_event, encode_event, event_type
from corridor.traffic.generator import generate
from stations.spec import load_all_stations

START = datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=8)))
SAMPLE = 2000  # messages per type, enough for a stable mean, small enough to stay in cache
DEEP = 5000
HERE = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description="decode_event cost per message")
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--before", type=Path, help="another tree to measure side by side")
    parser.add_argument("--alternations", type=int, default=5)
    parser.add_argument(
        "--statistic", choices=["median", "min"], default="median", help="over the rounds"
    )
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.json:
        print(json.dumps(measure(args.days, args.rounds, args.statistic)))
        return
    if args.before is None:
        _print_table({"this tree": measure(args.days, args.rounds, args.statistic)}, args.statistic)
        return
    runs: dict[str, list[dict[str, float]]] = defaultdict(list)
    for _ in range(args.alternations):  # a busy minute on the machine hits both sides
        for name, tree in (("before", args.before), ("after", HERE)):
            runs[name].append(_measure_in(tree, args))
    _print_table({name: _median_of(results) for name, results in runs.items()}, args.statistic)


def measure(days: int, rounds: int, statistic: str = "median") -> dict[str, float]:
    """ns per message by event type (and for the whole mix), and the deep refusal."""
    pick = statistics.median if statistic == "median" else min
    messages: dict[str, list[bytes]] = defaultdict(list)
    for event in generate(load_all_stations(), days=days, seed=1, start=START):
        messages[event_type(event)].append(encode_event(event))
    result = {kind: pick(_rounds(raws[:SAMPLE], rounds)) for kind, raws in messages.items()}
    total = sum(len(raws) for raws in messages.values())
    result["mix (weighted by count)"] = sum(
        result[kind] * len(raws) / total for kind, raws in messages.items()
    )
    result[f"refuse a {DEEP:,}-deep dispatch"] = pick(_deep_refusal_ns(rounds))
    return result


def _rounds(raws: list[bytes], rounds: int) -> list[float]:
    """The mean ns per message of each round."""
    means = []
    for _ in range(rounds):
        began = time.thread_time_ns()
        for raw in raws:
            decode_event(raw)
        means.append((time.thread_time_ns() - began) / len(raws))
    return means


def deep_dispatch(depth: int = DEEP) -> bytes:
    """A valid dispatch carrying an extra field nested `depth` deep (about 2 bytes a level)."""
    event = json.loads(_a_dispatch())
    head = json.dumps(event)[:-1].encode()
    return head + b', "extra": ' + b"[" * depth + b"]" * depth + b"}"


def _a_dispatch() -> bytes:
    events: list[Event] = list(generate(load_all_stations(), days=1, seed=1, start=START))
    return next(encode_event(e) for e in events if event_type(e) == "truck.dispatched")


def _deep_refusal_ns(rounds: int) -> list[float]:
    raw = deep_dispatch()
    try:
        decode_event(raw)
    except RecursionError:
        return [float("nan")]  # this tree does not refuse it: it raises
    return _rounds([raw] * 50, rounds)


def _measure_in(tree: Path, args: argparse.Namespace) -> dict[str, float]:
    options = ["--days", str(args.days), "--rounds", str(args.rounds)]
    command = [sys.executable, __file__, "--json", *options, "--statistic", args.statistic]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(command, env=env, cwd=tree, capture_output=True, text=True, check=True)
    measured: dict[str, float] = json.loads(out.stdout)
    return measured


def _median_of(results: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in results) for key in results[0]}


def _print_table(columns: dict[str, dict[str, float]], statistic: str) -> None:
    names = list(columns)
    rows = list(columns[names[-1]])
    header = "".join(f"{name + ' ns':>16}" for name in names)
    ratio = len(names) == 2
    title = f"decode_event, ns per message ({statistic} of the rounds' means)"
    print(f"{title}\n{'':<34}{header}{'ratio' if ratio else '':>9}")
    for row in rows:
        values = [columns[name].get(row, float("nan")) for name in names]
        cells = "".join(f"{_cell(value):>16}" for value in values)
        tail = f"{values[1] / values[0]:>9.3f}" if ratio and values[0] == values[0] else ""
        print(f"{row:<34}{cells}{tail}")


def _cell(value: float) -> str:
    return "RecursionError" if value != value else f"{value:,.0f}"


if __name__ == "__main__":
    main()

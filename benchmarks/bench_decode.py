"""Benchmark: `decode_event` per message, by event type, and what a too-deep message costs.

    .venv/bin/python benchmarks/bench_decode.py [--days 2] [--rounds 21] [--before TREE]

Decodes the encoded events of `--days` days of generated traffic (three yards, seed 1), type
by type, 2,000 messages a type, and prints the median over `--rounds` rounds of the mean ns per
message, then the time to refuse a 10 KB `truck.dispatched` whose extra field nests 5,000 deep.
Times are the thread's CPU time, so other processes on a shared machine do not count.

With `--before TREE` (a checkout of another commit: `git worktree add ../before REV`), that tree's
`corridor/contract/events.py` is loaded in the same process as a module of its own (what it
imports comes from this tree) and the two `decode_event`s run in alternate rounds on the same
messages: side by side with their ratio, the cost of a change to decoding. Runs in separate
processes differ by 10-30 % on a busy machine; alternate rounds in one process do not.

The last table isolates the guard against deep nesting on the fast path (the check that a
message starts `{"type":"`): `decode_event` against its own fast path without that check.
"""

import argparse
import importlib.util
import json
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType

import msgspec

from corridor.contract import events
from corridor.traffic.generator import generate
from stations.spec import load_all_stations

START = datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=8)))
SAMPLE = 2000  # messages per type, enough for a stable mean, small enough to stay in cache
DEEP = 5000
Decode = Callable[[bytes], object]


def main() -> None:
    parser = argparse.ArgumentParser(description="decode_event cost per message")
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--before", type=Path, help="another tree, measured side by side")
    args = parser.parse_args()
    messages = traffic(args.days)
    sides: dict[str, Decode] = {"after": events.decode_event}
    if args.before is not None:
        sides = {"before": _events_of(args.before).decode_event, **sides}
    print("decode_event, ns per message (median of the rounds' means, thread CPU time)")
    table(messages, sides, args.rounds)
    print(f"\nrefuse a {DEEP:,}-deep dispatch of {len(deep_dispatch(messages)):,} bytes")
    for name, decode in sides.items():
        print(f"  {name:<8}{_refusal(decode, deep_dispatch(messages), args.rounds)}")
    print("\nthe guard on the fast path alone (after, without the check that keeps it safe)")
    table(messages, {"unguarded": _unguarded, "guarded": events.decode_event}, args.rounds)


def traffic(days: int) -> dict[str, list[bytes]]:
    """Encoded generated events by type, at most `SAMPLE` of each."""
    messages: dict[str, list[bytes]] = defaultdict(list)
    for event in generate(load_all_stations(), days=days, seed=1, start=START):
        kind = events.event_type(event)
        if len(messages[kind]) < SAMPLE:
            messages[kind].append(events.encode_event(event))
    return messages


def table(messages: Mapping[str, list[bytes]], sides: Mapping[str, Decode], rounds: int) -> None:
    """Per type, each side's median ns per message over alternate rounds, and their ratio."""
    names = list(sides)
    header = "".join(f"{name + ' ns':>16}" for name in names)
    print(f"{'':<22}{header}{'ratio' if len(names) == 2 else '':>9}")
    for kind, raws in messages.items():
        means: dict[str, list[float]] = {name: [] for name in names}
        for _ in range(rounds):
            for name, decode in sides.items():
                means[name].append(_mean_ns(decode, raws))
        medians = [statistics.median(means[name]) for name in names]
        ratio = f"{medians[1] / medians[0]:>9.3f}" if len(names) == 2 else ""
        print(f"{kind:<22}{''.join(f'{value:>16,.0f}' for value in medians)}{ratio}")


def deep_dispatch(messages: Mapping[str, list[bytes]]) -> bytes:
    """A valid dispatch carrying an extra field nested `DEEP` deep (about 2 bytes a level)."""
    head = json.dumps(json.loads(messages["truck.dispatched"][0]))[:-1].encode()
    return head + b', "extra": ' + b"[" * DEEP + b"]" * DEEP + b"}"


def _refusal(decode: Decode, raw: bytes, rounds: int) -> str:
    try:
        decode(raw)
    except RecursionError:
        return "raises RecursionError"
    return f"{statistics.median(_mean_ns(decode, [raw] * 50) for _ in range(rounds)):,.0f} ns"


def _mean_ns(decode: Decode, raws: list[bytes]) -> float:
    began = time.thread_time_ns()
    for raw in raws:
        decode(raw)
    return (time.thread_time_ns() - began) / len(raws)


def _events_of(tree: Path) -> ModuleType:
    """Another tree's event contract, loaded beside this one."""
    path = tree / "corridor" / "contract" / "events.py"
    spec = importlib.util.spec_from_file_location("before_events", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"{path}: cannot load")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_strict = msgspec.json.Decoder(events.Event)  # the decoder of decode_event's fast path


def _unguarded(raw: bytes) -> object:
    """`decode_event`'s fast path without the layout check (valid bytes events only)."""
    if len(raw) <= events.MAX_EVENT_BYTES:
        try:
            event = _strict.decode(raw)
        except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError):
            return None
        problem = events.semantic_error(event)
        return problem if problem is not None else event
    return None


if __name__ == "__main__":
    main()

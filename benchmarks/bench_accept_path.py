"""Benchmark: the worker's accept path message by message, and its stored twin snapshot.

`bench_worker_instructions.py` counts the whole catch-up; this splits out what the worker's
main thread does for each message outside the engine, in callgrind instructions (noise-free:
the machine's load does not move them), per `--tree` (a checkout, put first on `PYTHONPATH`;
this script and the in-process messages stay the same for all):

- `decode_event`, alone, over every message's bytes;
- `LiveTwin.admit`, alone, on the decoded events (times converted beforehand);
- `Intake.take`: the whole accept path on in-process messages (`inprocess_worker.py`), in
  batches of 10,000 as the worker consumes them: decode, checks, admit, archive entries;

each as instructions a message, a child's setup (the messages, decoded, a worker) subtracted.
With `--snapshot-days`, it also times in CPU (medians of `--repeat`, the trees alternated)
what a stored twin snapshot (`streams.twin_restart.TwinSnapshots.attach`, the worker's
`deliver` phase while catching up) costs on a twin that ran that many days: `LiveTwin.snapshot`
and its MessagePack encoding, the encoded size, and what a restart does with it: decoding and
`LiveTwin.restored`.

    .venv/bin/python benchmarks/bench_accept_path.py [--events 10000] [--tree /tmp/base] \
        [--tree .] [--snapshot-days 12]
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

import callgrind  # type: ignore[import-not-found]  # beside this script

SEED = 2026
MODES = ("setup", "decode", "admit", "take")
BATCH = 10_000  # the worker's default `batch_size`


def messages(count: int) -> list[Any]:
    """The first `count` generated events as the in-process consumer hands them out."""
    import workload  # type: ignore[import-not-found]
    from inprocess_worker import InputMessage  # type: ignore[import-not-found]

    from corridor.contract.events import encode_event
    from corridor.scenario import load_scenario
    from streams.settings import KafkaSettings
    from streams.topics import key_for, topic_for

    settings = KafkaSettings(bootstrap_servers="in-process:0", group_id="bench")
    ends: dict[tuple[str, int], int] = {}
    made = []
    for event in workload.backlog(load_scenario(None).stations, count, SEED):
        key = key_for(event)
        where = (topic_for(event, settings), zlib.crc32(key) % settings.partitions)
        offset = ends[where] = ends.get(where, -1) + 1
        made.append(InputMessage(where, offset, key, encode_event(event)))
    return made


def child(mode: str, count: int) -> None:
    """Set up (messages, decoded, a worker), then run `mode` once (in the tree on the path)."""
    from inprocess_worker import inprocess_worker

    from corridor.contract.events import decode_event
    from corridor.runtime import tune_gc_for_a_long_lived_twin
    from corridor.scenario import load_scenario
    from corridor.store_contract import TwinBatch
    from streams.live.memory_store import MemoryStore
    from streams.live.reorder import to_micros
    from streams.settings import KafkaSettings

    tune_gc_for_a_long_lived_twin()
    stations = load_scenario(None).stations
    taken = messages(count)
    decoded = [decode_event(message.value()) for message in taken]
    stamps = [to_micros(event.ts) for event in decoded]  # type: ignore[union-attr]
    settings = KafkaSettings(bootstrap_servers="in-process:0", group_id="bench")
    worker, _feed = inprocess_worker(settings, MemoryStore(), stations, SEED)
    if mode == "decode":
        for message in taken:
            decode_event(message.value())
    elif mode == "admit":
        admit = worker.live.admit
        for event, message, ts in zip(decoded, taken, stamps, strict=True):
            admit(event, message.value(), message, ts)
    elif mode == "take":
        for start in range(0, count, BATCH):
            letters: list[Any] = []
            worker.intake.take(taken[start : start + BATCH], TwinBatch("bench", {}), letters)
            assert not letters, letters[:3]  # every generated event is accepted


def instructions(tree: Path, mode: str, count: int) -> int:
    """Instructions a child in `mode` executes under callgrind, with `tree` first on the path."""
    return callgrind.instructions(__file__, tree, ["--child", mode, "--events", str(count)])


def snapshot_child(days: int, repeat: int) -> None:
    """Print the CPU ms of `repeat` twin snapshots (and encodings) of a twin run `days` days."""
    import workload

    from corridor.contract.events import encode_event
    from corridor.runtime import tune_gc_for_a_long_lived_twin
    from corridor.scenario import load_scenario
    from streams.live import state
    from streams.live.twin import LiveTwin

    tune_gc_for_a_long_lived_twin()
    stations = load_scenario(None).stations
    live = LiveTwin(stations, SEED)
    hour = 3_600_000_000
    for event in workload.generated(stations, days, SEED):
        ts = live.admit(event, encode_event(event), None)  # raw bytes: held ones restore
        if ts is not None and (live.watermark is None or ts - 2 * hour > live.watermark):
            live.advance(ts - hour)  # an hour of lateness: some events held, as live
    snapshots, encodings, decodings, restores = [], [], [], []
    for _ in range(repeat):
        began = time.process_time()
        taken = live.snapshot()
        snapshots.append(time.process_time() - began)
        began = time.process_time()
        data = state.encode(taken)
        encodings.append(time.process_time() - began)
        began = time.process_time()
        decoded = state.decode(data)
        decodings.append(time.process_time() - began)
        began = time.process_time()
        LiveTwin.restored(decoded, stations)
        restores.append(time.process_time() - began)
    times = [statistics.median(t) for t in (snapshots, encodings, decodings, restores)]
    print(len(live.accepted), len(data), *times)


class SnapshotTimes(NamedTuple):
    """A stored twin snapshot's ids and bytes, and CPU seconds: snapshot, encode, decode,
    restore (the restored twin from the decoded snapshot)."""

    ids: int
    size: int
    snapshot: float
    encode: float
    decode: float
    restore: float


def snapshot_times(tree: Path, days: int, repeat: int) -> SnapshotTimes:
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONHASHSEED": "0"}
    command = [sys.executable, __file__, "--snapshot-child", str(days), "--repeat", str(repeat)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    ids, size, *times = done.stdout.split()
    return SnapshotTimes(int(ids), int(size), *(float(t) for t in times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--tree", type=Path, action="append", help="default: this checkout")
    parser.add_argument("--snapshot-days", type=int, default=0, help="0: no snapshot timing")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3, help="snapshot runs per tree")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--snapshot-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--no-instructions", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))  # `workload`, `inprocess_worker`
    if args.child is not None:
        child(args.child, args.events)
        return
    if args.snapshot_child is not None:
        snapshot_child(args.snapshot_child, args.repeat)
        return
    trees = [tree.resolve() for tree in args.tree or [Path(__file__).resolve().parents[1]]]
    if not args.no_instructions:
        print_instructions(trees, args.events)
    if args.snapshot_days:
        print_snapshots(trees, args.snapshot_days, args.repeat, args.rounds)


def print_instructions(trees: list[Path], count: int) -> None:
    runs = [(tree, mode) for tree in trees for mode in MODES]
    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = list(pool.map(lambda run: instructions(*run, count), runs))
    counted = dict(zip(runs, counts, strict=True))
    print(f"{count:,} messages, instructions a message (callgrind, setup subtracted)")
    print(f"{'tree':<40}" + "".join(f"{mode:>10}" for mode in MODES[1:]) + f"{'take vs first':>15}")
    first = None
    for tree in trees:
        setup = counted[(tree, "setup")]
        each = [(counted[(tree, mode)] - setup) / count for mode in MODES[1:]]
        first = first or each[-1]
        parts = "".join(f"{part:>10,.0f}" for part in each)
        print(f"{str(tree)[-40:]:<40}{parts}{each[-1] / first:>15.3f}")


def print_snapshots(trees: list[Path], days: int, repeat: int, rounds: int) -> None:
    print(f"twin snapshot after {days} days, CPU ms, medians of {repeat} (rounds alternated)")
    print(
        f"{'tree':<40}{'ids':>8}{'bytes':>12}{'snapshot':>10}{'encode':>8}{'decode':>8}"
        f"{'restore':>9}"
    )
    for _ in range(rounds):
        for tree in trees:
            t = snapshot_times(tree, days, repeat)
            print(
                f"{str(tree)[-40:]:<40}{t.ids:>8,}{t.size:>12,}{t.snapshot * 1e3:>10.1f}"
                f"{t.encode * 1e3:>8.1f}{t.decode * 1e3:>8.1f}{t.restore * 1e3:>9.1f}"
            )


if __name__ == "__main__":
    main()

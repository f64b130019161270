"""`bench_year.py`, traced for events that reach the worker behind its watermark.

Runs `bench_year.py` (its own arguments, e.g. `--days 2 --month-days 1 --feed broker`) with the
worker's steps watched: every event a `consume` returns whose time is at or before the
watermark at that moment (late: the twin applies it at its yard's clock, and a pickup or a
reading whose box's drop-off came late is dead-lettered `rejected:container_id`), and every
watermark move with the partitions the tracker took as idle then, each partition's newest
time, its answer's stamp (`FreshEnds`), its cached high watermark and position. Writes them as
JSON lines to `--late-log` and prints, after the benchmark's own output, how many events came
late and, for the first late event of each partition, the move that passed it.

This is how the race of issue 14 was found (`docs/streams.md`, "Watermark"): every late event
came after a move made while partitions with messages waiting still counted as idle.
`CORRIDOR_KAFKA_BATCH_SIZE=50` makes the small batches that expose it more often.

Run: `PYTHONPATH=. .venv/bin/python benchmarks/bench_year_late.py --late-log late.jsonl
--days 2 --month-days 1 --feed broker`.
"""

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import bench_year  # type: ignore[import-not-found]
from confluent_kafka import TopicPartition

from corridor.contract.events import decode_event
from streams.live.reorder import to_micros
from streams.worker import Worker


class Watched:
    """The worker's consumer, seen through: each batch's late events, written to `log`."""

    def __init__(self, consumer: Any, worker: Worker, log: list[dict[str, Any]]) -> None:
        self.consumer, self.worker, self.log = consumer, worker, log

    def __getattr__(self, name: str) -> Any:
        return getattr(self.consumer, name)

    def consume(self, num_messages: int = 1, timeout: float = -1) -> Any:
        messages = self.consumer.consume(num_messages, timeout=timeout)
        watermark = self.worker.live.watermark
        for message in messages:
            if watermark is None or message.error() is not None:
                continue
            ts = to_micros(decode_event(message.value()).ts)
            if ts <= watermark:
                where = [message.topic(), message.partition(), message.offset()]
                self.log.append({"late": where, "ts": ts, "watermark": watermark})
        return messages


def partition_states(worker: Worker) -> dict[str, Any]:
    """Each partition's newest time, idle or not, answer stamp, cached end and position."""
    tracker, confirm = worker.tracker, worker.tracker.confirm
    states = {}
    for where in tracker.ended_at:
        _low, high = worker.consumer.get_watermark_offsets(TopicPartition(*where), cached=True)
        stamps = getattr(confirm, "at_end", None)  # a tree before the fix has none
        stamp = "-" if stamps is None else stamps.get(where)
        states[f"{where[0]}[{where[1]}]"] = {
            "newest": tracker.newest[where],
            "idle": tracker.idle(where),
            "stamp": stamp,
            "cached_end": high,
            "position": worker.positions.get(where),
        }
    return states


def watch(worker: Worker, log: list[dict[str, Any]]) -> Worker:
    """Wrap the worker's read and its watermark move (instance attributes: this run only)."""
    worker.consumer = Watched(worker.consumer, worker, log)
    move = worker._move_watermark

    def traced(batch: Any, letters: Any, *, catching_up: bool) -> None:
        before = worker.live.watermark
        states = partition_states(worker)
        move(batch, letters, catching_up=catching_up)
        if worker.live.watermark != before:
            log.append({"move": [before, worker.live.watermark], "partitions": states})

    worker._move_watermark = traced  # type: ignore[method-assign]
    return worker


def summary(log: list[dict[str, Any]]) -> None:
    """How many events came late, by partition, and the move that passed each first one."""
    late = [entry for entry in log if "late" in entry]
    by_partition = Counter(f"{e['late'][0]}[{e['late'][1]}]" for e in late)
    print(f"late events: {len(late)} {dict(by_partition)}")
    moves = [entry for entry in log if "move" in entry]
    for name in by_partition:
        first = next(e for e in late if f"{e['late'][0]}[{e['late'][1]}]" == name)
        passed = next((m for m in moves if m["move"][1] >= first["ts"]), None)
        if passed is not None:
            idle = [p for p, state in passed["partitions"].items() if state["idle"]]
            print(f"  {name}@{first['late'][2]}: passed by the move {passed['move']}, with "
                  f"idle {idle}; itself then {passed['partitions'][name]}")  # fmt: skip


def main() -> None:
    log: list[dict[str, Any]] = []
    out = Path("late.jsonl")
    if "--late-log" in sys.argv:
        at = sys.argv.index("--late-log")
        out = Path(sys.argv[at + 1])
        del sys.argv[at : at + 2]
    connect = bench_year.connect_worker
    bench_year.connect_worker = lambda *args, **kwargs: watch(connect(*args, **kwargs), log)
    bench_year.main()
    out.write_text("".join(json.dumps(entry) + "\n" for entry in log))
    summary(log)


if __name__ == "__main__":
    main()

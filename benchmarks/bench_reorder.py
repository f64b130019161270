"""Benchmark: the reorder buffer's release while a large backlog stays held.

A worker catching up on a backlog read topic by topic holds hundreds of thousands of events
until every topic has delivered; each batch then releases a little of it while more arrive.
This holds `--held` events of one yard, then `--steps` times pushes `--batch` new events and
releases as much, and prints the seconds the releases took (medians of `--repeat`). Run it
with another commit's code on `PYTHONPATH` to compare:
    .venv/bin/python benchmarks/bench_reorder.py [--held 700000] [--steps 60] [--batch 10000]
"""

import argparse
import statistics
import time

from streams.live.reorder import ReorderBuffer


def run(held: int, steps: int, batch: int) -> float:
    """Seconds spent in `release` over `steps` batches (pushes not counted)."""
    buffer: ReorderBuffer[int] = ReorderBuffer()
    for index in range(held):
        buffer.push("yard", index * 10, index)
    spent = 0.0
    for step in range(steps):
        for index in range(batch):
            buffer.push("yard", held * 10 + (step * batch + index) * 10 + 5, -1)
        began = time.perf_counter()
        buffer.release((step + 1) * batch * 10)
        spent += time.perf_counter() - began
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--held", type=int, default=700_000)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    seconds = statistics.median(run(args.held, args.steps, args.batch) for _ in range(args.repeat))
    each = seconds / args.steps * 1000
    print(f"{args.held:,} held, {args.steps} releases of {args.batch:,}: {seconds:.2f} s "
          f"in release ({each:.1f} ms each; median of {args.repeat})")  # fmt: skip


if __name__ == "__main__":
    main()

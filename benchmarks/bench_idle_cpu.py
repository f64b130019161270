"""Benchmark: the CPU of a live worker with nothing to read, by poll timeout.

A worker whose topics are quiet still loops: each step reads (`streams.batch_read`: nothing
queued, so it waits up to `poll_timeout_s` for a first message), looks at its partitions' ends
and commits a heartbeat now and then. A shorter poll timeout is the other way to a short live
latency (`docs/streams.md`, "Configuration"), paid in steps of an idle worker. This runs one
worker on the embedded broker (its own process, not counted) with empty input topics, for
`--seconds` after it has its partitions, once per poll timeout given, alternated `--rounds`
times, and prints the CPU seconds of this process (the worker's thread and librdkafka's) per
wall second, and its steps per second.

Run: `.venv/bin/python benchmarks/bench_idle_cpu.py [--seconds 10] [--rounds 3]
[--poll-timeout-s 0.2 0.01]`.
"""

import statistics
import time

import workload  # type: ignore[import-not-found]

from streams.broker import EmbeddedBroker
from streams.connect import connect_worker
from streams.live.memory_store import MemoryStore
from streams.settings import KafkaSettings

SEED = 2026


def idle_cpu(
    bootstrap: str, stations: workload.Stations, poll_timeout_s: float, seconds: float, run: int
) -> tuple[float, float]:
    """(CPU seconds per wall second, steps per second) of an idle worker at `poll_timeout_s`."""
    settings = KafkaSettings(
        bootstrap_servers=bootstrap,
        group_id=f"idle-{run}",
        poll_timeout_s=poll_timeout_s,
        **workload.own_topics(f"idle{run}"),
    )
    worker = connect_worker(settings, MemoryStore(), stations, SEED)
    worker.start()
    for _ in range(20):  # the ends reported and confirmed: idle from here on
        worker.step()
    steps, began, cpu = 0, time.monotonic(), time.process_time()
    while time.monotonic() - began < seconds:
        worker.step()
        steps += 1
    wall = time.monotonic() - began
    used = time.process_time() - cpu
    worker.close()
    return used / wall, steps / wall


def main() -> None:
    parser = workload.parser(__doc__)
    parser.add_argument("--seconds", type=float, default=10.0, help="idle wall time an arm")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--poll-timeout-s", type=float, nargs="+", default=[0.2, 0.01])
    args, stations = workload.begin(parser, tune_gc=True)
    results: dict[float, list[tuple[float, float]]] = {t: [] for t in args.poll_timeout_s}
    with EmbeddedBroker() as broker:
        run = 0
        for _round in range(args.rounds):
            for timeout in args.poll_timeout_s:
                run += 1
                results[timeout].append(
                    idle_cpu(broker.bootstrap_servers, stations, timeout, args.seconds, run)
                )
                cpu, rate = results[timeout][-1]
                print(f"poll timeout {timeout:.3f} s: {cpu * 100:5.1f} % of a core, "
                      f"{rate:7.1f} steps/s", flush=True)  # fmt: skip
    for timeout, figures in results.items():
        cpu = statistics.median(figure[0] for figure in figures)
        rate = statistics.median(figure[1] for figure in figures)
        print(f"median, poll timeout {timeout:.3f} s: {cpu * 100:5.1f} % of a core, "
              f"{rate:7.1f} steps/s ({len(figures)} runs of {args.seconds:.0f} s)")  # fmt: skip


if __name__ == "__main__":
    main()

"""Benchmark: the reorder buffer's peak and the catch-up rate, with and without alignment.

Publishes `--days` of generated traffic onto the embedded broker once, then catches up on it
with an in-process worker (memory store, so the store's cost does not hide the consumer's)
alternately with alignment off (`max_partition_lead` 0), on as by default (`--lead` minutes,
`align_above_held` `--above`) and on whatever the buffer holds (`align_above_held` 0),
`--repeat` times each, each run in a consumer group of its own from offset 0. Every step the reorder
buffer's size is sampled; printed per run: the buffer's peak, the wall seconds from start until
every event is applied (the buffer flushed once the input is quiet for `quiet_after_s`, 0.5 s
here; the same wait on both sides), events per second, the partitions paused, the wall seconds
until the first watermark (KPI and twin snapshots cannot flow before it), and this process's
CPU microseconds an event until then (the worker and librdkafka's threads: less noisy than
wall time on a shared machine); then the medians.
`--hold-dispatch S` publishes the dispatch topic S seconds after the rest (the worker has started
by then), the case where one topic's backlog is far ahead of another's:
    .venv/bin/python benchmarks/bench_alignment.py [--days 10] [--lead 30] [--repeat 2]
"""

import statistics
import threading
import time
import uuid
from datetime import timedelta

import workload  # type: ignore[import-not-found]

from corridor.scenario import load_scenario
from streams.broker import EmbeddedBroker
from streams.connect import connect_worker
from streams.live.memory_store import MemoryStore
from streams.publish import publish
from streams.settings import KafkaSettings
from streams.topics import topic_for

SEED = 2026
IDLE_S = 0.5  # quiet this long after the buffer's flush: caught up
FAST = {"quiet_after_s": 0.5, "end_settle_s": 0.5, "poll_timeout_s": 0.05}


def run(settings: KafkaSettings, total: int, late_events: list, hold_s: float) -> dict[str, float]:
    """One catch-up; its figures."""
    stations = load_scenario(None).stations
    worker = connect_worker(settings, MemoryStore(), stations, SEED)
    began, cpu_began = time.monotonic(), time.process_time()
    worker.start()
    if late_events:
        threading.Timer(hold_s, publish, (late_events, settings)).start()
    peak, first_watermark = 0, float("nan")
    while True:
        worker.step()
        peak = max(peak, len(worker.live.buffer))
        if first_watermark != first_watermark and worker.live.watermark is not None:
            first_watermark = time.monotonic() - began
        if worker.idle_for() >= IDLE_S:  # every event applied, the buffer flushed
            done_at = time.monotonic() - began - IDLE_S
            cpu = time.process_time() - cpu_began
            break
    worker.close()
    print(f"  seconds in {worker.timer.summary()}; {worker.stats.batches} batches")
    return {
        "peak": peak,
        "seconds": done_at,
        "rate": total / done_at,
        "cpu_us": cpu / total * 1e6,
        "pauses": worker.alignment.pauses,
        "first_watermark_s": first_watermark,
    }


def main() -> None:
    parser = workload.parser(__doc__, days=10)
    parser.add_argument("--lead", type=float, default=30.0, help="minutes")
    parser.add_argument("--above", type=int, default=50_000, help="align_above_held")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--hold-dispatch", type=float, default=0.0, metavar="S")
    parser.add_argument("--extra", action="append", default=[], metavar="KEY=VALUE")
    args, stations = workload.begin(parser, tune_gc=False)
    events = workload.generated(stations, args.days, SEED)
    with EmbeddedBroker() as broker:
        tag = uuid.uuid4().hex[:8]
        topics = workload.own_topics(f"b{tag}")
        base = KafkaSettings(
            bootstrap_servers=broker.bootstrap_servers,
            batch_size=args.batch_size,
            extra_config=dict(item.split("=", 1) for item in args.extra),
            **topics,
            **FAST,  # type: ignore[arg-type]
        )
        held = [e for e in events if topic_for(e, base) == base.topic_dispatch]
        rest = [e for e in events if topic_for(e, base) != base.topic_dispatch]
        if not args.hold_dispatch:
            publish(events, base)
        configs = {"off": (0.0, 0), "default": (args.lead, args.above), "always": (args.lead, 0)}
        results: dict[str, list[dict[str, float]]] = {name: [] for name in configs}
        for index in range(args.repeat):
            for name, (lead, above) in configs.items():
                settings = base.model_copy(
                    update={
                        "group_id": f"g{tag}-{name}-{index}",
                        "max_partition_lead": timedelta(minutes=lead),
                        "align_above_held": above,
                    }
                )
                late: list = []
                if args.hold_dispatch:  # fresh topics: dispatch comes after the rest
                    settings = settings.model_copy(
                        update={key: f"{value}-{name}-{index}" for key, value in topics.items()}
                    )
                    publish(rest, settings)
                    late = held
                figures = run(settings, len(events), late, args.hold_dispatch)
                results[name].append(figures)
                print(
                    f"{name} (lead {lead:g} min, above {above:,}), run {index}: "
                    f"buffer peak {figures['peak']:,.0f}, "
                    f"{figures['seconds']:.1f} s ({figures['rate']:,.0f} events/s, "
                    f"{figures['cpu_us']:.0f} CPU us an event), "
                    f"{figures['pauses']:.0f} pauses, first watermark after "
                    f"{figures['first_watermark_s']:.1f} s",
                    flush=True,
                )
    print(f"{len(events):,} events ({args.days} days), batch {args.batch_size:,}; medians:")
    for name, runs in results.items():
        peak = statistics.median(r["peak"] for r in runs)
        rate = statistics.median(r["rate"] for r in runs)
        first = statistics.median(r["first_watermark_s"] for r in runs)
        cpu = statistics.median(r["cpu_us"] for r in runs)
        print(
            f"  {name}: buffer peak {peak:,.0f}, {rate:,.0f} events/s, "
            f"{cpu:.0f} CPU us an event, "
            f"first watermark after {first:.1f} s"
        )


if __name__ == "__main__":
    main()

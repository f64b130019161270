"""The live worker's produce-to-KPI latency on a real broker: `bench_worker.py`'s latency section.

A `corridor worker` process on the SQL store (as deployed) is fed a steady rate of generated
events; a reader thread follows the `corridor.kpi` topic, and each event's latency is the time
from producing it to the first KPI snapshot whose `as_of` covers it. The worker's step trace
splits it into its parts (`latency_parts.py`). Used by `bench_worker.py` (`--latency-only`)
and `bench_worker_ab.py`.
"""

import argparse
import bisect
import itertools
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import workload  # type: ignore[import-not-found]
from confluent_kafka import OFFSET_BEGINNING, TopicPartition
from latency_parts import decompose, read_steps, report  # type: ignore[import-not-found]

from corridor.contract.events import encode_event
from corridor.scenario import load_scenario
from streams.broker import EmbeddedBroker
from streams.clients import ensure_topics, make_admin, make_consumer, make_producer
from streams.live.reorder import to_micros
from streams.settings import KafkaSettings
from streams.topics import key_for, topic_for

SEED = 2026


def load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


WORKER_PROCESS = (
    "import sys; from api.store.sql_store import SqlStore; from streams.cli import main; "
    "sys.exit(main(sys.argv[1:], open_store=SqlStore.open))"
)


def latency(broker: EmbeddedBroker, args: argparse.Namespace, db: Path, writer: str) -> None:
    """Produce at `args.rate` events/s for `args.latency_seconds` to a live worker process;
    time until a KPI snapshot covers each event.

    The worker is a `corridor worker` process on the SQL store, as deployed; the producer and
    the KPI reader are other programs (threads of this one). `args.end_settle_s` is the
    worker's end-of-partition settling time (`streams.live.watermark`): a sparse partition
    (a yard's trains, a few events a second here) held the watermark at its last event for
    that long after each one, most of the latency on a quiet machine (`docs/performance.md`),
    until the end was confirmed by a fresh `list_offsets` (`args.end_confirm`,
    `streams.partition_ends`): the settling time now decides only without an answer.
    """
    rate, seconds = args.rate, args.latency_seconds
    # `bench_worker_ab.py`'s namespace has neither option: its defaults then
    trace_path = getattr(args, "trace", None) or db.parent / "steps.jsonl"
    prompt = getattr(args, "reader", "poll") == "poll"
    settings = KafkaSettings(
        bootstrap_servers=broker.bootstrap_servers,
        group_id=f"bench-{db.stem}",
        **workload.own_topics(db.stem),  # each writer's run its own topics, in one broker
        **polling(getattr(args, "poll_timeout_s", None)),  # not in bench_worker_ab.py's
        lateness=timedelta(minutes=5),
        end_settle_s=args.end_settle_s,
        **confirming(getattr(args, "end_confirm", None)),  # not in bench_worker_ab.py's
        **tracing(trace_path),
        **writing(writer),
    )
    print(
        f"latency, store writer: {writer}, poll timeout {settings.poll_timeout_s} s; "
        f"load average {load()}"
    )
    ensure_topics(make_admin(settings), settings, settings.all_topics)
    trace_path.unlink(missing_ok=True)  # the worker appends to it
    env = {**os.environ, **{f"CORRIDOR_KAFKA_{k.upper()}": v for k, v in env_values(settings)}}
    # -P: the tree on PYTHONPATH, not the current directory's, is the worker's code (with -c the
    # current directory comes first, so an A/B run from one checkout ran its code in both arms)
    command = [sys.executable, "-P", "-c", WORKER_PROCESS, "worker", "--seed", str(SEED)]
    command += ["--exit-with-parent"]  # a benchmark that dies takes its workers with it
    command += ["--store", f"sqlite:///{db}"]
    worker = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    assert worker.stderr is not None
    for line in worker.stderr:  # wait until it has its partitions
        if ": assigned {" in line:  # its partitions, not the settings line's membership
            break
    stop = threading.Event()
    seen: list[tuple[int, float]] = []  # (as_of micros, wall time seen)
    watch = (settings, stop, seen, prompt)
    watcher = threading.Thread(target=watch_kpis, args=watch, daemon=True)
    watcher.start()
    time.sleep(1.0)
    stations = load_scenario(None).stations
    sent = produce_steady(settings, stations, rate, seconds)
    time.sleep(2.0)
    stop.set()
    watcher.join(10)
    worker.send_signal(signal.SIGTERM)
    _out, log = worker.communicate(timeout=120)  # its final commit, slow on a loaded machine
    report_latency(covered_after(sent, seen), rate)
    report_breakdown(log, seen, seconds)
    steps = read_steps(trace_path)
    report(decompose(sent, seen, steps), steps)
    print(f"{'  KPI reader':<48}{'poll' if prompt else 'consume':>12}")
    settle = args.end_settle_s * 1000
    print(f"{'  end-of-partition settling (worker setting)':<48}{settle:>12.0f} ms")
    confirmed = getattr(settings, "end_confirm", "absent")  # a tree before the confirmed end
    print(f"{'  end confirmed by list_offsets (worker setting)':<48}{confirmed!s:>12}")


def tracing(path: Path) -> dict[str, Path]:
    """`step_trace` for the latency worker's settings, if this tree's worker can trace."""
    return {"step_trace": path} if "step_trace" in KafkaSettings.model_fields else {}


def writing(writer: str) -> dict[str, str]:
    """`store_writer` for the latency worker's settings, if this tree knows the setting."""
    return {"store_writer": writer} if "store_writer" in KafkaSettings.model_fields else {}


def confirming(choice: str | None) -> dict[str, bool]:
    """`end_confirm` for the latency worker's settings, if chosen and known to this tree."""
    if choice is None or "end_confirm" not in KafkaSettings.model_fields:
        return {}
    return {"end_confirm": choice == "on"}


def polling(timeout_s: float | None) -> dict[str, float]:
    """`poll_timeout_s` for the latency worker's settings if chosen, else the worker's own."""
    return {} if timeout_s is None else {"poll_timeout_s": timeout_s}


PHASE_LINE = re.compile(r"seconds in (.*)$", re.MULTILINE)


def report_breakdown(log: str, seen: list[tuple[int, float]], seconds: float) -> None:
    """The worker's phases over the latency run (its last progress line) and its KPI moments:
    how many the reader saw, how far apart in wall time, and what one cost the worker."""
    moments = sorted(dict(reversed(seen)).values())  # each moment when first seen
    gaps = [later - earlier for earlier, later in itertools.pairwise(moments)]
    print(f"{'  distinct KPI moments seen':<48}{len(moments):>12,}")
    if gaps:
        print(f"{'  wall time between them, median':<48}{statistics.median(gaps) * 1000:>12.0f} ms")
    lines = PHASE_LINE.findall(log)
    if not lines:
        print("  worker phases: no progress line in its log")
        return
    phases = dict(part.rsplit(" ", 1) for part in lines[-1].split(", "))
    print(f"  worker phases (s, over about {seconds + 3:.0f} s): {lines[-1]}")
    if moments:
        each = float(phases.get("snapshots", "nan")) / len(moments) * 1000
        print(f"{'  snapshot cost per KPI moment (worker log)':<48}{each:>12.0f} ms")


def env_values(settings: KafkaSettings) -> Iterator[tuple[str, str]]:
    for name, value in settings.model_dump(exclude={"sasl_password", "extra_config"}).items():
        if value is not None:
            yield (
                name,
                f"PT{value.total_seconds()}S" if isinstance(value, timedelta) else str(value),
            )


def report_latency(latencies: list[float], rate: float) -> None:
    if not latencies:
        print("latency: no KPI snapshot seen")
        return
    cuts = statistics.quantiles(latencies, n=100)
    print(f"{'latency produce -> KPI visible, p50':<48}{cuts[49] * 1000:>12.0f} ms")
    print(f"{'latency produce -> KPI visible, p99':<48}{cuts[98] * 1000:>12.0f} ms")
    print(f"{'  events timed (steady ' + f'{rate:,.0f}/s)':<48}{len(latencies):>12,}")


def produce_steady(
    settings: KafkaSettings, stations: Any, rate: float, seconds: float
) -> list[tuple[int, float]]:
    """(event time micros, wall time produced) of each event, at `rate` events/s."""
    producer = make_producer(settings, extra={"linger.ms": 1})
    sent: list[tuple[int, float]] = []
    began = time.perf_counter()
    days = int(rate * seconds / workload.EVENTS_PER_DAY) + 2
    for index, event in enumerate(workload.traffic(stations, days, SEED)):
        due = began + index / rate
        if due > began + seconds:
            break
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        producer.produce(topic_for(event, settings), encode_event(event), key_for(event))
        producer.poll(0)
        sent.append((to_micros(event.ts), time.perf_counter()))
    producer.flush(10)
    return sent


def watch_kpis(
    settings: KafkaSettings, stop: threading.Event, seen: list[tuple[int, float]], prompt: bool
) -> None:
    """The KPI reader: `(as_of, when seen)` of each snapshot message. `prompt`: `poll`, which
    returns a message as soon as it is there; else `consume(1000, timeout=0.05)`, which returns
    only when it has 1,000 messages or the 50 ms are over, so every message it returns is
    stamped as late as the timeout (the reader's own delay, up to 50 ms, in the latency)."""
    consumer = make_consumer(settings, extra={"group.id": "bench-kpi"})
    partitions = [(settings.topic_kpi, p) for p in range(settings.partitions)]
    consumer.assign([TopicPartition(t, p, OFFSET_BEGINNING) for t, p in partitions])
    decoder = msgspec.json.Decoder()
    while not stop.is_set():
        messages = [consumer.poll(0.05)] if prompt else consumer.consume(1000, timeout=0.05)
        for message in messages:
            if message is not None and message.error() is None:
                snapshot = decoder.decode(message.value() or b"{}")
                as_of = to_micros(datetime.fromisoformat(snapshot["as_of"]))
                seen.append((as_of, time.perf_counter()))
    consumer.close()


def covered_after(sent: list[tuple[int, float]], seen: list[tuple[int, float]]) -> list[float]:
    """For each event, seconds from produce until the first snapshot with as_of >= its time."""
    seen = sorted(seen, key=lambda item: item[1])
    newest: list[int] = []  # running maximum of as_of, in the order snapshots were seen
    for as_of, _wall in seen:
        newest.append(max(as_of, newest[-1]) if newest else as_of)
    latencies = []
    for ts, produced in sent:
        first = bisect.bisect_left(newest, ts)
        if first < len(seen):
            latencies.append(max(0.0, seen[first][1] - produced))
    return latencies

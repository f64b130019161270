"""Benchmark: the worker's catch-up by consumer fetch settings, with the broker's CPU beside it.

Publishes a backlog of generated traffic (`--events`) onto the embedded broker once, then
catches up on it with an in-process worker (memory store, or SQLite with `--sql`) under each
configuration given with `--config NAME=KEY=VALUE,KEY=VALUE` (librdkafka consumer settings, laid
over the worker's own; `batch=N` sets the worker's consume batch), alternating the
configurations `--repeat` times (each round starting one configuration later), each run in a
consumer group of its own from offset 0. A configuration named `current` with no settings is
always among them.

Printed per run and then as medians: events/s (wall, from start until every event is applied,
the final quiet wait left out), the worker process's CPU microseconds an event (its Python
thread, librdkafka's threads and the store's commit thread), the broker process's CPU
microseconds an event (`psutil` on its pid: the embedded broker shares the machine's cores),
the worker's consume phase in wall microseconds an event, and the fetch requests librdkafka
sent (its statistics) and the KPI snapshots taken (a batch that does not fill counts as live,
which snapshots more often). Ratios are to `current` in the same run.

    .venv/bin/python benchmarks/bench_fetch.py [--events 150000] [--repeat 3] [--sql]
        --config small=queued.max.messages.kbytes=1024 --config batch1k=batch=1000
"""

import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psutil
import workload  # type: ignore[import-not-found]

from api.store.sql_store import SqlStore
from corridor.scenario import load_scenario
from corridor.store_contract import TwinStore
from streams.broker import EmbeddedBroker
from streams.broker_watch import BrokerWatch
from streams.clients import ensure_topics, make_admin, make_consumer, make_producer
from streams.live.memory_store import MemoryStore
from streams.publish import publish
from streams.settings import KafkaSettings
from streams.worker import Worker

SEED = 2026
STATS_MS = 1000  # librdkafka statistics interval: fetch request counts


def parse_config(text: str) -> tuple[str, dict[str, Any], int | None]:
    """`NAME=KEY=VALUE,KEY=VALUE` as (name, librdkafka settings, batch size or None)."""
    name, _, rest = text.partition("=")
    config: dict[str, Any] = {}
    batch = None
    for item in filter(None, rest.split(",")):
        key, _, value = item.partition("=")
        if key == "batch":
            batch = int(value)
        else:
            config[key] = value
    return name, config, batch


def make_worker(
    settings: KafkaSettings, store: TwinStore, extra: dict[str, Any], stats: list[dict[str, Any]]
) -> Worker:
    """`streams.connect.connect_worker`'s worker, its consumer's settings overlaid by `extra`
    and its statistics collected in `stats`."""
    admin = make_admin(settings)
    ensure_topics(admin, settings, settings.all_topics)
    watch = BrokerWatch(admin, settings)
    extra = {
        **extra,
        "statistics.interval.ms": STATS_MS,
        "stats_cb": lambda text: stats.append(json.loads(text)),
    }
    return Worker(
        settings,
        store,
        load_scenario(None).stations,
        SEED,
        consumer=make_consumer(settings, on_error=watch.on_error, extra=extra),
        producer=make_producer(settings, on_error=watch.on_error),
        admin=admin,
        watch=watch,
    )


def fetch_requests(stats: list[dict[str, Any]]) -> int:
    """Fetch requests the consumer sent, from its last statistics."""
    if not stats:
        return 0
    return sum(
        broker.get("req", {}).get("Fetch", 0) for broker in stats[-1].get("brokers", {}).values()
    )


def run(
    settings: KafkaSettings, total: int, extra: dict[str, Any], broker: psutil.Process, sql: bool
) -> dict[str, float]:
    """One catch-up; its figures."""
    stats: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as scratch:
        store: TwinStore = (
            SqlStore.open(f"sqlite:///{Path(scratch) / 'twin.db'}") if sql else MemoryStore()
        )
        worker = make_worker(settings, store, extra, stats)
        me = psutil.Process()
        cpu0, broker0 = me.cpu_times(), broker.cpu_times()
        began = time.perf_counter()
        worker.start()
        while not (worker.stats.consumed >= total and worker.idle_for() > 0):
            worker.step()
        elapsed = time.perf_counter() - began - worker.idle_for()
        cpu1, broker1 = me.cpu_times(), broker.cpu_times()
        worker.consumer.poll(0)  # one more statistics callback, if due
        time.sleep(STATS_MS / 1000 * 1.2)
        worker.consumer.poll(0)
        consume_s = worker.timer.seconds["consume"]
        worker.close()
    return {
        "rate": total / elapsed,
        "cpu_us": (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / total * 1e6,
        "broker_us": (broker1.user + broker1.system - broker0.user - broker0.system) / total * 1e6,
        "consume_us": consume_s / total * 1e6,
        "fetches": fetch_requests(stats),
        "snapshots": worker.stats.snapshots,
    }


COLUMNS = (
    ("rate", "events/s", "{:,.0f}"),
    ("cpu_us", "worker CPU us/ev", "{:.1f}"),
    ("broker_us", "broker CPU us/ev", "{:.1f}"),
    ("consume_us", "consume us/ev", "{:.2f}"),
    ("fetches", "fetch requests", "{:,.0f}"),
    ("snapshots", "KPI snapshots", "{:,.0f}"),
)


def main() -> None:
    parser = workload.parser(__doc__)
    parser.add_argument("--events", type=int, default=150_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sql", action="store_true", help="SQLite store instead of memory")
    parser.add_argument("--config", action="append", default=[], metavar="NAME=K=V,K=V")
    args, stations = workload.begin(parser, tune_gc=False)
    configs = [("current", {}, None), *(parse_config(text) for text in args.config)]
    events = list(workload.backlog(stations, args.events, SEED))
    results: dict[str, list[dict[str, float]]] = {name: [] for name, _, _ in configs}
    with EmbeddedBroker() as broker:
        assert broker.pid is not None
        broker_process = psutil.Process(broker.pid)
        tag = uuid.uuid4().hex[:8]
        base = KafkaSettings(
            bootstrap_servers=broker.bootstrap_servers,
            quiet_after_s=0.5,
            **workload.own_topics(f"f{tag}"),
        )
        publish(events, base)
        for index in range(args.repeat):
            shift = index % len(configs)  # each configuration in turn goes first
            for name, extra, batch in configs[shift:] + configs[:shift]:
                update: dict[str, Any] = {"group_id": f"g{tag}-{name}-{index}"}
                if batch is not None:
                    update["batch_size"] = batch
                figures = run(
                    base.model_copy(update=update),
                    len(events),
                    extra,
                    broker_process,
                    args.sql,
                )
                results[name].append(figures)
                shown = ", ".join(
                    f"{label} {form.format(figures[key])}" for key, label, form in COLUMNS
                )
                print(f"{name} run {index}: {shown}", flush=True)
    store = "SQLite" if args.sql else "memory"
    print(f"{len(events):,} events, {store} store, {args.repeat} runs each; medians (x current):")
    medians = {
        name: {key: statistics.median(r[key] for r in runs) for key, _, _ in COLUMNS}
        for name, runs in results.items()
    }
    for name, extra, batch in configs:
        shown = [f"{key}={value}" for key, value in extra.items()]
        settings = ", ".join(shown + [f"batch={batch}"] * bool(batch))
        print(f"  {name} ({settings or 'the worker as it is'}):")
        for key, label, form in COLUMNS:
            ratio = medians[name][key] / medians["current"][key] if medians["current"][key] else 0
            print(f"    {label:<20}{form.format(medians[name][key]):>12}  ({ratio:.2f})")


if __name__ == "__main__":
    main()

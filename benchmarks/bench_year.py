"""Benchmark: a simulated year through one live worker: its memory month by month, its restart.

Runs one worker (`streams.worker.Worker`, driven step by step as `benchmarks/bench_worker.py`
does) on a SQLite store and, one simulated month (30 days) at a time, gives it that month's
generated traffic and lets it catch up. After each month it samples the process's resident
memory (RSS, from `/proc/self/status`: Linux), after a full garbage collection, with the
GC-tracked objects (`objects`), the trucks waiting for an import box (`waiting`) and for
stacking room (`no room`: a yard whose stack stays full jams, and keeps every truck). Target
(issue 14): RSS after 12 months at most 1.5 times RSS after one month.

How the events reach the worker (`--feed`):

- `inprocess` (the default): the real worker with in-process stand-ins for its Kafka clients
  (`inprocess_worker.py`): every event is encoded and keyed as `corridor publish` sends it and
  handed to the worker's decode, checks, reorder buffer, watermark, engine, KPI and twin
  snapshots and store commits, in the generator's order; its admin answers `list_offsets`
  (partition ends confirmed as on a broker: a stand-in refusing them measured a worker that
  cannot confirm its ends, and showed that it then kept every batch, fixed since). What this
  measures is everything the worker holds; what it leaves out is librdkafka (fetch and produce
  buffers, its threads) and the broker's delivery order (no event arrives late). A year took
  77 s here (2026-12-01).
- `broker`: the embedded broker in its own process (not counted) and this process publishing
  each month before the worker consumes it, so the RSS also holds the publisher's and the
  consumer's librdkafka memory; the events are published from a child process
  (`publisher_process.py`), not counted. A year took over an hour on these 2-core machines.

`--trim` also prints RSS after `malloc_trim(0)` each month (`memory_watch.py`): growth that the
trim takes back is free memory the C allocator kept, not objects. At the end the growth of
GC-tracked objects by type since month 2 is printed, and with `--trace N` the `tracemalloc`
growth by allocating traceback (N frames; it slows the run several times).

Prints a table of the samples and the ratio, and writes `rss.png` (and `rss.csv`) to `--out`.
With `--restart` it then times a restart on the year's store (`restart_times.py`): a new worker
starting from the newest stored twin snapshot and the archive after it (target: at most 5 s),
against a full rebuild of the whole archive with the snapshots ignored, printed side by side.

Run: `.venv/bin/python benchmarks/bench_year.py [--days 365] [--out bench-year] [--restart]`
(`--days 60 --month-days 10` is a quick look).
"""

import contextlib
import csv
import gc
import itertools
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import matplotlib
import workload
from inprocess_worker import inprocess_worker
from memory_watch import MemoryWatch
from publisher_process import PublisherProcess
from restart_times import time_restarts

from api.store.sql_store import SqlStore
from corridor.contract.events import Event
from corridor.scenario import DEFAULT_START
from streams.broker import EmbeddedBroker
from streams.connect import connect_worker
from streams.settings import KafkaSettings
from streams.worker import Worker

matplotlib.use("Agg")
import matplotlib.pyplot as plt

SEED = 2026
TARGET = 1.5  # RSS after the last month / after the first, at most
RESTART_TARGET_S = 5.0  # a new worker's start with the year archived, at most


class Sample(NamedTuple):
    """The worker's process after a simulated month was caught up."""

    month: int
    day: int  # simulated days so far
    events: int  # published (and consumed) so far
    rss_mb: float
    trimmed_mb: float  # after malloc_trim (with --trim; else the same as rss_mb)
    objects: int  # Python objects the cyclic GC tracks: flat if only native memory grows
    waiting: int  # import boxes trucks wait for (open visits, never forgotten)
    no_room: int  # trucks waiting for room in a full stack (open visits too)
    seconds: float  # wall time since the first event was published


def main() -> None:
    parser = workload.parser(__doc__)
    parser.add_argument("--days", type=int, default=365, help="simulated days (default a year)")
    parser.add_argument("--month-days", type=int, default=30, help="days between samples")
    parser.add_argument("--out", type=Path, default=Path("bench-year"), help="folder for the PNG")
    parser.add_argument("--restart", action="store_true", help="then time a restart")
    parser.add_argument(
        "--feed", choices=("inprocess", "broker"), default="inprocess", help="see the docstring"
    )
    parser.add_argument("--trim", action="store_true", help="malloc_trim after each month")
    parser.add_argument("--trace", type=int, default=0, help="tracemalloc frames (0: off)")
    args, stations = workload.begin(parser, tune_gc=True)  # the GC as `corridor worker`'s
    if args.days < 1 or args.month_days < 1:
        parser.error("--days and --month-days must be at least 1")
    args.out.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        scratch = stack.enter_context(tempfile.TemporaryDirectory())
        # the generated year may end after today: the worker would refuse those events as
        # stamped ahead of its wall clock (`rejected:ts_future`), so the bound covers the year
        ahead = DEFAULT_START + timedelta(days=args.days + 1) - datetime.now(UTC)
        skew = max(KafkaSettings().max_future_skew, ahead)
        settings = KafkaSettings(group_id="bench-year", quiet_after_s=0.5, max_future_skew=skew)
        if args.feed == "broker":
            broker = stack.enter_context(EmbeddedBroker())
            settings = settings.model_copy(update={"bootstrap_servers": broker.bootstrap_servers})
        store = SqlStore.open(f"sqlite:///{Path(scratch) / 'twin.db'}")
        worker, deliver = make_worker(args.feed, settings, store, stations, stack)
        worker.start()
        samples = run_months(worker, deliver, stations, args)
        worker.close()
        stats = worker.stats
        late = worker.live.twin.counts.late if worker.live.twin is not None else 0
        print(f"archived: {stats.archived:,} events and {stats.advances:,} clock advances; "
              f"dead letters: {dict(stats.dead_letters) or 0}; late events: {late:,}")  # fmt: skip
        report(samples, args.out)
        if args.restart:
            restart(args.feed, settings, stations, store)


Deliver = Callable[[Iterator[Event]], Callable[[], bool]]
"""Hand a month's events to the worker; returns "is everything handed over consumed?"."""


def make_worker(
    feed: str,
    settings: KafkaSettings,
    store: SqlStore,
    stations: Any,
    stack: contextlib.ExitStack[None],
) -> tuple[Worker, Deliver]:
    """The worker, on the broker or fed in process, and how to give it a month of events."""
    if feed == "broker":
        worker = connect_worker(settings, store, stations, SEED)
        publishers: list[PublisherProcess] = []  # started at the first month (not on restart)

        def publish_month(chunk: Iterator[Event]) -> Callable[[], bool]:
            if not publishers:
                publishers.append(PublisherProcess(settings))
                stack.callback(publishers[0].close)
            target = worker.stats.consumed + publishers[0].publish(chunk)
            return lambda: worker.stats.consumed >= target

        return worker, publish_month
    worker, generated = inprocess_worker(settings, store, stations, SEED)

    def feed_month(chunk: Iterator[Event]) -> Callable[[], bool]:
        generated.feed(chunk)
        return lambda: generated.exhausted

    return worker, feed_month


def run_months(worker: Worker, deliver: Deliver, stations: Any, args: Any) -> list[Sample]:
    """Deliver a month, catch up, sample RSS; for every month of `args.days`."""
    days, month_days = args.days, args.month_days
    events = workload.traffic(stations, days, SEED)
    pending: list[Event] = []  # the first event of the next month, read ahead
    samples, began = [], time.perf_counter()
    watch = MemoryWatch(args.trim, args.trace)
    print(f"{'month':>5} {'day':>5} {'events':>11} {'RSS MB':>8} {'trimmed':>8} "
          f"{'objects':>10} {'waiting':>8} {'no room':>8} {'wall s':>8}")  # fmt: skip
    for month, first_day in enumerate(range(0, days, month_days), 1):
        last_day = min(first_day + month_days, days)
        boundary = DEFAULT_START + timedelta(days=last_day)
        carried = list(pending)  # `_until` refills `pending` as it goes
        done = deliver(_until(itertools.chain(carried, events), boundary, pending))
        while not done() or worker.idle_for() == 0:
            worker.step()
        worker.commits.wait()  # the month's last commit stored: its buffers are let go
        seconds = time.perf_counter() - began
        rss, trimmed = watch.sample(month)
        objects, (waiting, no_room) = len(gc.get_objects()), waiting_trucks(worker)
        events_so_far = worker.stats.consumed
        sample = Sample(
            month, last_day, events_so_far, rss, trimmed, objects, waiting, no_room, seconds
        )
        samples.append(sample)
        print(f"{sample.month:>5} {sample.day:>5} {sample.events:>11,} "
              f"{sample.rss_mb:>8,.0f} {sample.trimmed_mb:>8,.0f} {sample.objects:>10,} "
              f"{sample.waiting:>8,} {sample.no_room:>8,} {sample.seconds:>8,.0f}",
              flush=True)  # fmt: skip
    watch.report()
    return samples


def _until(events: Iterator[Event], boundary: Any, pending: list[Event]) -> Iterator[Event]:
    """The events before `boundary`; the first one at or after it is left in `pending`."""
    pending.clear()
    for event in events:
        if event.ts >= boundary:
            pending.append(event)
            return
        yield event


def waiting_trucks(worker: Worker) -> tuple[int, int]:
    """Trucks waiting in the yards for an import box no train has brought (yet), and for room
    in a full stack."""
    twin = worker.live.twin
    if twin is None:
        return 0, 0
    yards = twin.yards.values()
    return sum(len(y.awaited_boxes) for y in yards), sum(len(y.stack.waiting) for y in yards)


def report(samples: list[Sample], out: Path) -> None:
    """Print the ratio to the first month, write the samples as CSV and the plot as PNG."""
    first, last = samples[0], samples[-1]
    ratio = last.rss_mb / first.rss_mb
    verdict = "met" if ratio <= TARGET else "MISSED"
    print(f"RSS after month {last.month} / after month 1: {last.rss_mb:,.0f} / "
          f"{first.rss_mb:,.0f} MB = {ratio:.2f} (target <= {TARGET}: {verdict})")  # fmt: skip
    rate = last.events / last.seconds
    load = " / ".join(f"{figure:.1f}" for figure in os.getloadavg())
    print(f"events: {last.events:,} in {last.seconds:,.0f} s wall "
          f"({rate:,.0f} ev/s through the worker, publishing included), "
          f"{time.process_time():,.0f} s CPU of this process (its threads included); "
          f"load average now {load}")  # fmt: skip
    with (out / "rss.csv").open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(Sample._fields)
        writer.writerows(samples)
    figure, axes = plt.subplots(figsize=(7, 4))
    axes.plot([s.day for s in samples], [s.rss_mb for s in samples], marker="o", label="worker RSS")
    if any(s.trimmed_mb != s.rss_mb for s in samples):
        trimmed = [s.trimmed_mb for s in samples]
        axes.plot([s.day for s in samples], trimmed, marker=".", label="after malloc_trim")
    axes.axhline(TARGET * first.rss_mb, linestyle="--", color="grey", label=f"{TARGET}x month 1")
    axes.set_xlabel("simulated days")
    axes.set_ylabel("resident memory, MB")
    axes.set_ylim(bottom=0)
    axes.set_title(f"One live worker, {last.events:,} events over {last.day} days")
    axes.legend()
    figure.tight_layout()
    figure.savefig(out / "rss.png", dpi=100)
    plt.close(figure)
    print(f"plot: {out / 'rss.png'}")


def restart(feed: str, settings: KafkaSettings, stations: Any, store: SqlStore) -> None:
    """Time a new worker's start on the year's store, from its newest twin snapshot, and the
    full rebuild of the same archive without the snapshots, side by side (`restart_times`)."""

    def new_worker() -> Worker:
        with contextlib.ExitStack() as stack:  # a restart publishes nothing: no publisher
            return make_worker(feed, settings, store, stations, stack)[0]

    times = time_restarts(new_worker, store, stations, SEED)
    verdict = "met" if times.snapshot_s <= RESTART_TARGET_S else "MISSED"
    print(f"snapshot restart: {times.snapshot_s:.1f} s (newest of {times.snapshots} snapshots, "
          f"{times.snapshot_mb:.1f} MB, then {times.tail:,} archive entries; target <= "
          f"{RESTART_TARGET_S:.0f} s: {verdict}); full rebuild: {times.rebuild_s:.1f} s "
          f"({times.entries:,} archive entries); ratio {times.ratio:.1f}x")  # fmt: skip


if __name__ == "__main__":
    main()

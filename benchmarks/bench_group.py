"""Benchmark: two workers in one consumer group against one, catching up on the same backlog.

Publishes a backlog of generated traffic onto input topics of `--partitions` partitions (12 by
default: the three yards then hash to partitions 0, 4 and 7, and the range assignor gives two
members {yuzui, xiaonanya} and {tuanjiecun}, 54 % and 46 % of the events; six partitions would
give 62 % and 38 %), then runs the catch-up twice, each time with `corridor worker --membership
group` processes on a fresh store: one worker, then two in one group. The rate is the events
archived from the moment every member holds its share to the last one, over that wall time
(what the first member archived alone before the others joined is not counted), read from the
store; the broker and every process share this machine's cores.

Run alone: `.venv/bin/python benchmarks/bench_group.py [--events N] [--store-url URL]`;
`benchmarks/bench_worker.py` runs it too. `--store-url` takes a PostgreSQL URL of an empty
database per run (`{run}` in it is replaced by `one0`, `two0`, `one1`, ...); the default is a
SQLite file per run.
"""

import argparse
import itertools
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from api.store.sql_store import SqlStore
from api.store.tables import ArchiveSegment, table_of
from corridor.scenario import DEFAULT_START, load_scenario
from corridor.traffic.generator import generate
from streams.broker import EmbeddedBroker
from streams.publish import publish
from streams.settings import KafkaSettings

SEED = 2026
EVENTS_PER_DAY = 3600
WORKER_PROCESS = (
    "import sys; from api.store.sql_store import SqlStore; from streams.cli import main; "
    "sys.exit(main(sys.argv[1:], open_store=SqlStore.open))"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=150_000, help="backlog size")
    parser.add_argument("--partitions", type=int, default=12, help="per input topic")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each, alternating")
    parser.add_argument("--store-url", help="PostgreSQL URL with {run} (default: SQLite files)")
    parser.add_argument(
        "--kpi-every-min", type=float, default=60.0, help="KPI cadence (a member takes each)"
    )
    args = parser.parse_args()
    every = timedelta(minutes=args.kpi_every_min)
    with EmbeddedBroker() as broker:
        rates = group_rates(
            broker, args.events, args.partitions, args.repeats, args.store_url, every
        )
    print_rates(*rates)


def group_rates(
    broker: EmbeddedBroker,
    events: int,
    partitions: int,
    repeats: int = 3,
    store_url: str | None = None,
    kpi_every: timedelta = timedelta(minutes=60),
) -> tuple[list[float], list[float]]:
    """Events/s of one group member, and of two, on the same backlog, `repeats` times each.

    The runs alternate (one, two, one, two, ...) so that a machine busy with other work slows
    both alike; each run has a group and a store of its own.
    """
    settings = KafkaSettings(
        bootstrap_servers=broker.bootstrap_servers,
        membership="group",
        partitions=partitions,
        topic_dispatch="group.dispatch",
        topic_reefer="group.reefer",
        topic_trains="group.trains",
        topic_dead_letter="group.dead-letter",
        topic_kpi="group.kpi",
        quiet_after_s=0.5,
        kpi_every=kpi_every,
    )
    stations = load_scenario(None).stations
    days = max(1, -(-events // EVENTS_PER_DAY))
    backlog = itertools.islice(
        generate(stations, days=days, seed=SEED, start=DEFAULT_START), events
    )
    published = publish(backlog, settings).produced
    print(f"group backlog: {published:,} events on {partitions} partitions per topic, "
          f"KPIs every {kpi_every}")  # fmt: skip
    print(f"autogroup scheduling: {autogroup()}; load average {load()}")
    rates: dict[int, list[float]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory() as scratch:
        for repeat, members in itertools.product(range(repeats), (1, 2)):
            run = f"{('one', 'two')[members - 1]}{repeat}"
            url = (store_url or f"sqlite:///{Path(scratch) / '{run}.db'}").format(run=run)
            rate = catch_up(settings, f"bench-{run}", members, url, published, Path(scratch))
            rates[members].append(rate)
            print(f"  ({run}: load average {load()})")
    return rates[1], rates[2]


def catch_up(
    settings: KafkaSettings, group: str, members: int, url: str, total: int, scratch: Path
) -> float:
    """Start `members` worker processes in `group`; events/s once the group is settled.

    The clock starts when every member holds its share (the first member to join works alone
    until the others are given theirs, 6 to 12 s on the embedded broker) and stops when the
    last event is archived; the rate is the events archived in between over that time.
    """
    store = SqlStore.open(url)  # migrated before the workers start
    env = {**os.environ, **settings_env(settings.model_copy(update={"group_id": group}))}
    command = [sys.executable, "-c", WORKER_PROCESS, "worker", "--seed", str(SEED)]
    command += ["--exit-with-parent"]  # a benchmark that dies takes its workers with it
    command += ["--store", url, "--exit-when-idle", "3"]
    logs = [scratch / f"{group}-{member}.log" for member in range(members)]
    workers = []
    for log in logs:
        with log.open("wb") as sink:
            # a session of its own: with the kernel's autogroup scheduling on, processes of one
            # session share one slice of the CPU, so two workers started from this one would
            # split a core's worth between them (see docs/scaling.md)
            workers.append(subprocess.Popen(command, env=env, stderr=sink, start_new_session=True))
    everything = 3 * settings.partitions
    settled: tuple[float, int] | None = None  # (wall time, events archived then)
    archived = 0
    while archived < total:
        if all(worker.poll() is not None for worker in workers):
            tail = logs[0].read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the workers stopped at {archived:,} of {total:,} events:\n{tail}")
        archived = archived_events(store)
        shares = [held(log) for log in logs]
        if settled is None and all(shares) and sum(shares) == everything:
            settled = (time.perf_counter(), archived)
        time.sleep(0.05)
    last = time.perf_counter()
    for worker in workers:
        worker.wait(timeout=120)
    store.close()
    if settled is None:
        raise RuntimeError("the group never settled before the backlog was archived")
    began, before = settled
    print(f"  {members} worker(s): settled after {before:,} events, then "
          f"{total - before:,} events in {last - began:.1f} s")  # fmt: skip
    return (total - before) / (last - began)


ASSIGNED = re.compile(r"assigned \{(.*)\}")


def load() -> str:
    """The machine's 1, 5 and 15 minute load averages (others' work slows every run)."""
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def autogroup() -> str:
    """Whether the kernel groups a session's processes for scheduling (Linux only)."""
    try:
        flag = Path("/proc/sys/kernel/sched_autogroup_enabled").read_text().strip()
    except OSError:
        return "unknown"
    return "on" if flag == "1" else "off"


def held(log: Path) -> int:
    """How many partitions a worker holds, by its latest `assigned` log line."""
    found = ASSIGNED.findall(log.read_text(errors="replace"))
    return found[-1].count("[") if found else 0


def archived_events(store: SqlStore) -> int:
    table = table_of(ArchiveSegment)
    with store.engine.connect() as connection:
        return int(connection.execute(select(func.sum(table.c.events))).scalar_one() or 0)


def settings_env(settings: KafkaSettings) -> dict[str, str]:
    env = {}
    for name, value in settings.model_dump(exclude={"sasl_password", "extra_config"}).items():
        if value is not None:
            text = f"PT{value.total_seconds()}S" if isinstance(value, timedelta) else str(value)
            env[f"CORRIDOR_KAFKA_{name.upper()}"] = text
    return env


def print_rates(one: list[float], two: list[float]) -> None:
    """Each run's rate, the medians and their ratio, side by side."""
    ratio = statistics.median(two) / statistics.median(one)
    print(f"{'group of one worker, catch-up (median)':<48}{statistics.median(one):>12,.0f} ev/s"
          f"  runs: {_listed(one)}")  # fmt: skip
    print(f"{'group of two workers, catch-up (median)':<48}{statistics.median(two):>12,.0f} ev/s"
          f"  runs: {_listed(two)}")  # fmt: skip
    print(f"{'  two workers / one (target >= 1.3)':<48}{ratio:>12.2f}")


def _listed(rates: list[float]) -> str:
    return ", ".join(f"{rate:,.0f}" for rate in rates)


if __name__ == "__main__":
    main()

"""Benchmark: two workers in one consumer group against one, catching up on the same backlog.

Publishes a backlog of generated traffic onto input topics of `--partitions` partitions (12 by
default: the three yards then hash to partitions 0, 4 and 7, and the range assignor gives two
members {yuzui, xiaonanya} and {tuanjiecun}, 60 % and 40 % of the default backlog's events,
the best split of three yards over two), then runs the catch-up twice, each time with
`corridor worker --membership group` processes on a fresh store: one worker, then two in one
group. The rate is the events archived from the moment every member holds its share to the
last one, over that wall time (what the first member archived alone before the others joined
is not counted), read from the store; the broker and every process share this machine's cores.
Each run also prints the CPU seconds of every worker, the broker and this process over the
counted time (psutil), the CPU microseconds an event, and each worker's messages consumed and
phases (its last progress line), so a ratio can be told apart from the machine's load.

Run alone: `.venv/bin/python benchmarks/bench_group.py [--events N] [--store-url URL]
[--logs DIR] [--before TREE]`; `benchmarks/bench_worker.py` runs it too. `--store-url` takes a
PostgreSQL URL of an empty database per run (`{run}` in it is replaced by `one0`, `two0`,
`one1`, ...); the default is a SQLite file per run. `--before` takes another commit's source
tree (`git archive COMMIT | tar -x -C TREE`) whose workers run alternately with this tree's,
on the same backlog and broker, for a before/after comparison in one run.
"""

import contextlib
import itertools
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import psutil
import workload  # type: ignore[import-not-found]
from sqlalchemy import func, select

from api.store.sql_store import SqlStore
from api.store.tables import ArchiveSegment, table_of
from corridor.scenario import load_scenario
from streams.broker import EmbeddedBroker
from streams.publish import publish
from streams.settings import KafkaSettings

SEED = 2026
WORKER_PROCESS = (
    "import sys; from api.store.sql_store import SqlStore; from streams.cli import main; "
    "sys.exit(main(sys.argv[1:], open_store=SqlStore.open))"
)


def main() -> None:
    parser = workload.parser(__doc__)
    parser.add_argument("--events", type=int, default=150_000, help="backlog size")
    parser.add_argument("--partitions", type=int, default=12, help="per input topic")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each, alternating")
    parser.add_argument("--store-url", help="PostgreSQL URL with {run} (default: SQLite files)")
    parser.add_argument(
        "--kpi-every-min", type=float, default=60.0, help="KPI cadence (a member takes each)"
    )
    parser.add_argument("--logs", type=Path, help="keep the workers' logs in this folder")
    parser.add_argument(
        "--before", type=Path, help="a source tree (another commit's) run alternately, compared"
    )
    args = parser.parse_args()
    every = timedelta(minutes=args.kpi_every_min)
    trees = {"": None} if args.before is None else {"before ": args.before, "": None}
    with EmbeddedBroker() as broker:
        rates = group_rates(
            broker, args.events, args.partitions, args.repeats, args.store_url, every, args.logs,
            trees,
        )  # fmt: skip
    for label, (one, two) in rates.items():
        print_rates(one, two, label or ("now " if args.before else ""))


def group_rates(
    broker: EmbeddedBroker,
    events: int,
    partitions: int,
    repeats: int = 3,
    store_url: str | None = None,
    kpi_every: timedelta = timedelta(minutes=60),
    logs: Path | None = None,
    trees: dict[str, Path | None] | None = None,
) -> dict[str, tuple[list[float], list[float]]]:
    """Events/s of one group member, and of two, on the same backlog, `repeats` times each,
    for each labelled source tree (None: this one; by default this one alone, labelled "").

    The runs alternate (one, two, one, two, ..., and tree by tree within a repeat) so that a
    machine busy with other work slows them all alike; each run has a group and a store of
    its own.
    """
    trees = trees or {"": None}
    settings = KafkaSettings(
        bootstrap_servers=broker.bootstrap_servers,
        membership="group",
        partitions=partitions,
        **workload.own_topics("group"),
        quiet_after_s=0.5,
        kpi_every=kpi_every,
    )
    stations = load_scenario(None).stations
    published = publish(workload.backlog(stations, events, SEED), settings).produced
    print(f"group backlog: {published:,} events on {partitions} partitions per topic, "
          f"KPIs every {kpi_every}")  # fmt: skip
    print(f"autogroup scheduling: {autogroup()}; load average {load()}")
    rates = {label: ([], []) for label in trees}
    with tempfile.TemporaryDirectory() as scratch:
        for repeat, label, members in itertools.product(range(repeats), trees, (1, 2)):
            run = f"{label.strip()}{('one', 'two')[members - 1]}{repeat}"
            url = (store_url or f"sqlite:///{Path(scratch) / '{run}.db'}").format(run=run)
            where = Member(members, logs or Path(scratch), broker.pid, trees[label])
            rate = catch_up(settings, f"bench-{run}", url, published, where)
            rates[label][members - 1].append(rate)
            print(f"  ({run}: load average {load()})")
    return rates


@dataclass(frozen=True)
class Member:
    """How a run's workers are started: how many, logs where, which code, beside which broker."""

    count: int
    logs: Path
    broker_pid: int | None = None
    tree: Path | None = None  # another source tree's code (None: this one's)


def catch_up(settings: KafkaSettings, group: str, url: str, total: int, members: Member) -> float:
    """Start `members` worker processes in `group`; events/s once the group is settled.

    The clock starts when every member holds its share (the first member to join works alone
    until the others are given theirs, 6 to 12 s on the embedded broker) and stops when the
    last event is archived; the rate is the events archived in between over that time.
    """
    store = SqlStore.open(url)  # migrated before the workers start
    env = {**os.environ, **settings_env(settings.model_copy(update={"group_id": group}))}
    # -P: the tree on PYTHONPATH, not the current directory's, is the worker's code (with -c the
    # current directory comes first, so an A/B run from one checkout ran its code in both arms)
    command = [sys.executable, "-P", "-c", WORKER_PROCESS, "worker", "--seed", str(SEED)]
    command += ["--exit-with-parent"]  # a benchmark that dies takes its workers with it
    command += ["--store", url, "--exit-when-idle", "3"]
    if members.tree is not None:
        env["PYTHONPATH"] = str(members.tree)
    logs = [members.logs / f"{group}-{member}.log" for member in range(members.count)]
    workers = []
    for log in logs:
        with log.open("wb") as sink:
            # a session of its own: with the kernel's autogroup scheduling on, processes of one
            # session share one slice of the CPU, so two workers started from this one would
            # split a core's worth between them (see docs/scaling.md)
            workers.append(
                subprocess.Popen(
                    command, env=env, stderr=sink, start_new_session=True, cwd=members.tree
                )
            )
    everything = 3 * settings.partitions
    settled: tuple[float, int, dict[str, float]] | None = None  # (wall, archived, CPU s) then
    archived = 0
    spent: dict[str, float] = {}  # each process's CPU seconds as last seen (some exit early)
    while archived < total:
        spent |= cpu_seconds(workers, members.broker_pid)
        if all(worker.poll() is not None for worker in workers):
            tail = logs[0].read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the workers stopped at {archived:,} of {total:,} events:\n{tail}")
        archived = archived_events(store)
        shares = [held(log) for log in logs]
        if settled is None and all(shares) and sum(shares) == everything:
            settled = (time.perf_counter(), archived, dict(spent))
        time.sleep(0.05)
    last = time.perf_counter()
    spent |= cpu_seconds(workers, members.broker_pid)
    for worker in workers:
        worker.wait(timeout=120)
    store.close()
    if settled is None:
        raise RuntimeError("the group never settled before the backlog was archived")
    began, before, at_start = settled
    wall, counted = last - began, total - before
    print(f"  {members.count} worker(s): settled after {before:,} events, then "
          f"{counted:,} events in {wall:.1f} s")  # fmt: skip
    print_cpu({name: spent[name] - at_start.get(name, 0.0) for name in spent}, wall, counted)
    for log in logs:
        print(f"    {log.name}: {phases(log)}")
    return counted / wall


def cpu_seconds(workers: list[subprocess.Popen[bytes]], broker_pid: int | None) -> dict[str, float]:
    """CPU seconds (user + system) so far of each worker still running, the broker and this
    process."""
    pids = {f"worker {n}": worker.pid for n, worker in enumerate(workers)}
    pids |= {"broker": broker_pid} if broker_pid is not None else {}
    pids |= {"benchmark": os.getpid()}
    spent = {}
    for name, pid in pids.items():
        with contextlib.suppress(psutil.NoSuchProcess, psutil.ZombieProcess):
            times = psutil.Process(pid).cpu_times()
            spent[name] = times.user + times.system
    return spent


def print_cpu(spent: dict[str, float], wall: float, events: int) -> None:
    """Where the CPU went while the rate was counted: per process, and the cores' share used."""
    cores = psutil.cpu_count() or 1
    shown = ", ".join(f"{name} {seconds:.1f}" for name, seconds in spent.items())
    total = sum(spent.values())
    print(f"    CPU s: {shown}; all {total:.1f} = {total / wall / cores:.0%} of {cores} cores; "
          f"{1e6 * total / max(events, 1):.0f} CPU µs an event")  # fmt: skip


ASSIGNED = re.compile(r"assigned \{(.*)\}")
PROGRESS = re.compile(r"consumed (\d+),.*seconds in (.*)")


def phases(log: Path) -> str:
    """A worker's last progress line: the messages it consumed (its share of the work, with
    any it read before a rebalance) and its wall seconds per phase (`streams.phase_timer`)."""
    found = PROGRESS.findall(log.read_text(errors="replace"))
    if not found:
        return "no progress line"
    consumed, seconds = found[-1]
    return f"consumed {int(consumed):,}; {seconds}"


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


def print_rates(one: list[float], two: list[float], label: str = "") -> None:
    """Each run's rate, the medians and their ratio, side by side."""
    ratio = statistics.median(two) / statistics.median(one)
    print(f"{label + 'group of one worker, catch-up (median)':<48}"
          f"{statistics.median(one):>12,.0f} ev/s  runs: {_listed(one)}")  # fmt: skip
    print(f"{label + 'group of two workers, catch-up (median)':<48}"
          f"{statistics.median(two):>12,.0f} ev/s  runs: {_listed(two)}")  # fmt: skip
    print(f"{'  ' + label + 'two workers / one (target >= 1.3)':<48}{ratio:>12.2f}")


def _listed(rates: list[float]) -> str:
    return ", ".join(f"{rate:,.0f}" for rate in rates)


if __name__ == "__main__":
    main()

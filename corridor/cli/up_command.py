"""`corridor up`: the whole live twin on one machine, from one command, until Ctrl-C.

It starts, each as the real `corridor` command in a process of its own (`corridor.cli.supervisor`):
the embedded broker (`corridor broker`), the store's migration (`corridor db upgrade`), the
worker (`corridor worker`), the API with the dashboard (`corridor api`) and a traffic feed from
the generator (`corridor publish --generate`), all on an SQLite file in a working folder, and
prints one line per part and the dashboard's address. Ctrl-C or SIGTERM stops every part; so
does one part exiting by itself, after which `up` says which and exits 1.

Event time against wall time (`feed_plan`): the worker refuses events stamped more than 15
minutes after its wall clock (`max_future_skew`), and `up` keeps that production bound. So the
traffic is placed in the past and never overtakes the present: `--days` of history end 24 hours
before now and are caught up at once (their last day at an hour in 3 seconds, so that the worker
snapshots every hour of it and each 24 h chart has its points); the live feed then plays the
last 24 hours at `--speed` (60: an hour a minute) and, having reached the present, goes on in
real time (`corridor publish --no-future`).
"""

import argparse
import json
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType

from corridor.cli.checks import MAX_DAYS, check_port_free, check_seed
from corridor.cli.errors import UserError
from corridor.cli.supervisor import ChildFailedError, Supervisor
from corridor.jobs import DEFAULT_SEED

DEFAULT_FOLDER = Path("corridor-up")
DEFAULT_STORE = DEFAULT_FOLDER / "twin.db"
MAX_HISTORY_DAYS = 30  # caught up at start: a month takes about half a minute and 1 GB
LIVE_LEAD = timedelta(hours=24)  # the live feed starts this long before now
WARM_SPEED = 1200.0  # the history's last day at an hour in 3 s: a KPI snapshot every hour
RUN_FILE = "up.json"  # what up started, in its working folder (also marks the folder as up's)
READY_TIMEOUT_S = 120.0
CORRIDOR = (sys.executable, "-m", "corridor.cli")


def add_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Register `up`."""
    up = commands.add_parser("up", help="run the live twin: broker, worker, API, dashboard, feed")
    up.add_argument("--store", default=str(DEFAULT_STORE), help="SQLite file (new each run)")
    up.add_argument("--port", type=int, default=8000, help="the API and dashboard's port")
    up.add_argument("--broker-port", type=int, default=0, help="the broker's (default: free)")
    up.add_argument("--speed", type=float, default=60.0, help="live event time per wall time")
    up.add_argument("--days", type=int, default=7, help="days of history caught up first")
    up.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed of the traffic")
    up.add_argument(
        "--for", dest="run_for", type=float, metavar="S", help="stop S seconds after start-up"
    )
    up.set_defaults(handler=run_up)


@dataclass(frozen=True, slots=True)
class FeedPlan:
    """Where the generated traffic lies in event time, and how fast each part is sent."""

    start: datetime  # the first day of history
    warm_from: datetime  # the history's last day, sent at WARM_SPEED
    live_from: datetime  # the live part, sent at the speed asked for, never ahead of the clock
    days: int  # days generated in all (the feed ends after them)

    def publish_args(self, speed: float) -> list[str]:
        """The `corridor publish` options that send the traffic so."""
        return [
            "--generate",
            "--start",
            self.start.isoformat(),
            "--days",
            str(self.days),
            "--pace",
            f"{self.warm_from.isoformat()}={WARM_SPEED:g}",
            "--pace",
            f"{self.live_from.isoformat()}={speed:g}",
            "--no-future",
        ]


def feed_plan(now: datetime, days: int) -> FeedPlan:
    """History of `days` days ending `LIVE_LEAD` before the hour of `now`; then live traffic."""
    live_from = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0) - LIVE_LEAD
    return FeedPlan(
        start=live_from - timedelta(days=days),
        warm_from=live_from - timedelta(days=1),
        live_from=live_from,
        days=MAX_DAYS,
    )


def run_up(args: argparse.Namespace) -> int:
    """Start every part, print where the dashboard is, stop them all on a signal."""
    store = _check(args)
    folder = store.parent
    stop = _stop_on_signals()
    supervisor = Supervisor(_environment(args, store))
    try:
        _start_parts(args, supervisor, store, stop)
        if not stop.is_set():
            _write_run_file(folder, supervisor)
            print(f"corridor up: dashboard http://127.0.0.1:{args.port}/ (Ctrl-C stops it all)")
            if args.run_for is not None:  # counted from here: a slow start does not eat it
                timer = threading.Timer(args.run_for, stop.set)
                timer.daemon = True
                timer.start()
            supervisor.watch(stop.is_set)
    except (ChildFailedError, TimeoutError) as failure:
        print(f"corridor up: {failure}; stopping the other parts", file=sys.stderr, flush=True)
        return 1
    finally:
        supervisor.stop_all()
        print("corridor up: stopped", flush=True)
    return 0


def _start_parts(
    args: argparse.Namespace, supervisor: Supervisor, store: Path, stop: threading.Event
) -> None:
    logs = store.parent / "logs"
    url = f"sqlite:///{store}"
    broker = supervisor.start(
        "broker",
        [*CORRIDOR, "broker", "--port", str(args.broker_port), "--log", str(logs / "tansu.log")],
        logs / "broker.log",
    )
    servers = _wait_for_broker(supervisor, broker.log_path, stop)
    if servers is None:
        return
    _say("broker", servers, broker.pid, broker.log_path)
    migrate = supervisor.start(
        "migration", [*CORRIDOR, "db", "upgrade", "--database-url", url], logs / "migration.log",
        may_finish=True,
    )  # fmt: skip
    supervisor.run_to_end(migrate, READY_TIMEOUT_S)
    _say("store", str(_near(store)), None, migrate.log_path)
    if stop.is_set():  # Ctrl-C while starting: start nothing more
        return
    kafka = ["--bootstrap-servers", servers]
    worker = supervisor.start(
        "worker",
        [*CORRIDOR, "worker", *kafka, "--store", url, "--seed", str(args.seed)],
        logs / "worker.log",
        stop_grace_s=20.0,
    )
    _say("worker", f"live twin, seed {args.seed}", worker.pid, worker.log_path)
    api = supervisor.start(
        "api",
        [*CORRIDOR, "api", "--port", str(args.port), "--database-url", url, "--no-migrate"],
        logs / "api.log",
    )
    address = f"http://127.0.0.1:{args.port}/"
    supervisor.wait_until(lambda: stop.is_set() or _answers(address + "health"), "the API",
                          READY_TIMEOUT_S)  # fmt: skip
    if stop.is_set():
        return
    _say("api", address, api.pid, api.log_path)
    plan = feed_plan(datetime.now(UTC), args.days)
    feed = supervisor.start(
        "feed",
        [*CORRIDOR, "publish", *kafka, "--seed", str(args.seed), *plan.publish_args(args.speed)],
        logs / "feed.log",
        may_finish=True,
    )
    what = (
        f"{args.days} days of history from {plan.start:%Y-%m-%d %H:%M} UTC, then live from "
        f"{plan.live_from:%Y-%m-%d %H:%M} at {args.speed:g}x until it reaches now, then real time"
    )
    _say("feed", what, feed.pid, feed.log_path)


def _check(args: argparse.Namespace) -> Path:
    """Everything checked before anything starts; returns the store's path."""
    if not 1 <= args.days <= MAX_HISTORY_DAYS:
        raise UserError(f"--days must be from 1 to {MAX_HISTORY_DAYS}, got {args.days}")
    if not args.speed > 0:
        raise UserError(f"--speed must be positive (60 = an hour a minute), got {args.speed:g}")
    if args.run_for is not None and not args.run_for > 0:
        raise UserError(f"--for must be a positive number of seconds, got {args.run_for:g}")
    check_seed(args.seed)
    store = _check_store(args.store)
    check_port_free(args.port, "--port")
    if args.broker_port:
        check_port_free(args.broker_port, "--broker-port")
        if args.broker_port == args.port:
            raise UserError("--broker-port: the same as --port; give two different ports")
    return _prepare_store(store)


def _check_store(text: str) -> Path:
    """A path for a new SQLite file, or one an earlier `up` made (see `_prepare_store`)."""
    store = Path(text)
    if "://" in text:
        raise UserError(
            f"--store {text}: give the path of an SQLite file (corridor up runs on SQLite); "
            "for another database run corridor worker and corridor api"
        )
    if store.is_dir():
        raise UserError(
            f"--store {store}: is a directory; give a file path such as {store}/twin.db"
        )
    if store.exists() and not (store.parent / RUN_FILE).exists():
        raise UserError(
            f"--store {store}: exists and was not made by corridor up, which starts a new twin "
            "each run; give a new path"
        )
    return store


def _prepare_store(store: Path) -> Path:
    """A fresh store in a folder of up's own: an earlier run's store there is replaced."""
    folder = store.parent.resolve()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / RUN_FILE).write_text(json.dumps({"pid": os.getpid()}) + "\n")
        for stale in (store, *(store.with_name(store.name + end) for end in ("-wal", "-shm"))):
            stale.unlink(missing_ok=True)
    except OSError as error:
        raise UserError(f"--store {store}: {error.strerror}; choose another path") from None
    return folder / store.name


def _environment(args: argparse.Namespace, store: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "CORRIDOR_API_MODE": "development",  # on 127.0.0.1 only, with no key to set
        "CORRIDOR_DATABASE_URL": f"sqlite:///{store}",
    }
    if args.stations:
        env["CORRIDOR_STATIONS_DIR"] = os.pathsep.join(
            str(Path(d).resolve()) for d in args.stations
        )
    return env


def _wait_for_broker(supervisor: Supervisor, log: Path, stop: threading.Event) -> str | None:
    """The broker's address, once `corridor broker` has printed it (None if stopped first)."""
    from streams.broker_command import READY_LINE

    found: list[str] = []

    def ready() -> bool:
        text = log.read_text(errors="replace") if log.exists() else ""
        found.extend(line[len(READY_LINE):].strip() for line in text.splitlines()
                     if line.startswith(READY_LINE))  # fmt: skip
        return stop.is_set() or bool(found)

    supervisor.wait_until(ready, "the broker", READY_TIMEOUT_S)
    return found[-1] if found else None


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _say(part: str, what: str, pid: int | None, log: Path) -> None:
    shown = f"pid {pid}, log {_near(log)}" if pid is not None else f"log {_near(log)}"
    print(f"corridor up: {part:<9} {what} ({shown})", flush=True)


def _near(path: Path) -> Path:
    """`path` relative to the working directory when it is under it (shorter to read)."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def _write_run_file(folder: Path, supervisor: Supervisor) -> None:
    parts = {child.name: {"pid": child.pid, "log": str(child.log_path)}
             for child in supervisor.children}  # fmt: skip
    record = {"pid": os.getpid(), "started": time.time(), "parts": parts}
    (folder / RUN_FILE).write_text(json.dumps(record, indent=2) + "\n")


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def handle(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
    return stop

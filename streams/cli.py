"""`corridor worker`, `corridor record` and `corridor publish`: the Kafka edge's commands.

`add_commands` registers them on the `corridor` command line (the composition root in
`corridor.cli` passes `open_store`, the durable store's constructor, so this package never
imports the API). Kafka settings come from `CORRIDOR_KAFKA_*` variables (`streams.settings`),
and the flags below override them; the store from `--store`, else `CORRIDOR_DATABASE_URL` or its
parts (`CORRIDOR_DATABASE_HOST`, ...), else `./corridor.db`: `open_store(None)` decides.
Run `python -m streams.cli` for the same commands without the rest of the CLI.
"""

import argparse
import logging
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from pydantic import ValidationError

from corridor.cli.checks import check_days, check_input_log, prepare_output_log
from corridor.cli.errors import one_line, report
from corridor.cli.parser import CorridorParser, add_global_options, subcommands
from corridor.cli.run_commands import DEFAULT_SEED, UserError
from corridor.contract import eventlog
from corridor.contract.events import Event
from corridor.engine.clock import aware_datetime
from corridor.runtime import tune_gc_for_a_long_lived_twin
from corridor.scenario import DEFAULT_START, Scenario, load_scenario
from corridor.store_contract import TwinStore
from corridor.traffic.generator import generate
from streams import stopping
from streams.broker import EmbeddedBroker
from streams.broker_outage import EXIT_BROKER_LOST, BrokerLostError
from streams.connect import connect_worker
from streams.live.memory_store import MemoryStore
from streams.pacing import pace_step, pacing_of
from streams.parent_watch import starting_process, stop_with_parent
from streams.publish import publish
from streams.record import RecordStats, record_archive, record_topics
from streams.settings import KafkaSettings
from streams.worker import Worker

StoreFactory = Callable[[str | None], TwinStore]
"""Opens the durable store at a URL, or the one the environment names when given None."""
log = logging.getLogger(__name__)


def add_commands(
    subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]",
    *,
    open_store: StoreFactory | None = None,
) -> None:
    """Register `worker`, `record` and `publish` (`open_store` opens the durable store)."""
    worker = subparsers.add_parser("worker", help="run the live twin on the Kafka topics")
    _kafka_options(worker)
    _model_options(worker)
    worker.add_argument("--store", help="store URL (default $CORRIDOR_DATABASE_URL, ./corridor.db)")
    worker.add_argument("--embedded-broker", action="store_true", help="start a local broker")
    worker.add_argument("--demo-days", type=int, help="with --embedded-broker: publish N days")
    worker.add_argument("--speed", type=float, help="--demo-days at this speed factor")
    worker.add_argument("--exit-when-idle", type=float, metavar="S", help="stop after S s quiet")
    worker.add_argument(
        "--exit-with-parent", action="store_true", help="stop when the starting process is gone"
    )
    worker.set_defaults(handler=lambda args: run_worker(args, open_store))

    record = subparsers.add_parser("record", help="write the topics or the archive to a log")
    _kafka_options(record)
    record.add_argument("out", type=Path, help="log file (.jsonl, .jsonl.gz or .parquet)")
    record.add_argument("--from-archive", action="store_true", help="read the worker's archive")
    record.add_argument("--store", help="store URL for --from-archive")
    record.add_argument("--start", type=aware_datetime, help="archive: events from (RFC 3339)")
    record.add_argument("--end", type=aware_datetime, help="archive: events before (RFC 3339)")
    record.add_argument("--timeout", type=float, default=60.0, help="topics: seconds to wait")
    record.set_defaults(handler=lambda args: run_record(args, open_store))

    publish_cmd = subparsers.add_parser("publish", help="produce a log onto the topics")
    _kafka_options(publish_cmd)
    _model_options(publish_cmd)
    publish_cmd.add_argument("log", type=Path, nargs="?", help="event log to publish")
    publish_cmd.add_argument("--generate", action="store_true", help="publish generated traffic")
    publish_cmd.add_argument("--days", type=int, default=1, help="--generate: days of traffic")
    publish_cmd.add_argument("--start", type=aware_datetime, help="--generate: first day")
    publish_cmd.add_argument("--speed", type=float, help="event time per wall time (60 = 1 h/min)")
    publish_cmd.add_argument(
        "--pace",
        type=pace_step,
        action="append",
        metavar="TIME=SPEED",
        help="from event time TIME on, at SPEED (repeatable; earlier events at once)",
    )
    publish_cmd.add_argument(
        "--no-future",
        action="store_true",
        help="never send an event before the wall clock reaches its time (then real time)",
    )
    publish_cmd.set_defaults(handler=run_publish)


def run_worker(args: argparse.Namespace, open_store: StoreFactory | None) -> int:
    """Run the worker until SIGTERM/SIGINT (or `--exit-when-idle`, or `--exit-with-parent`),
    gone within `stop_within_s` of it, interpreter exit included (so a command, not a call
    for a process that goes on); exits `EXIT_BROKER_LOST` after `broker_lost_exit_s` without a
    broker (other exit codes: `streams.stopping`)."""
    _logging()
    parent = starting_process() if args.exit_with_parent else None  # before anything else runs
    tune_gc_for_a_long_lived_twin()
    if args.embedded_broker and args.bootstrap_servers:
        raise UserError(
            "--bootstrap-servers and --embedded-broker: the worker would ignore one; give "
            "--embedded-broker alone, or the servers of a running broker (e.g. corridor broker)"
        )
    scenario, seed = _scenario(args)
    broker = EmbeddedBroker().start() if args.embedded_broker else None
    try:
        settings = _settings(args, broker)
        log.info("kafka settings %s", settings.redacted())
        store = _store(args.store, open_store, required=False)
        with _broker_must_answer(settings):
            worker = connect_worker(settings, store, scenario.stations, seed)
        stop = stopping.stop_on_signals()
        deadline = stopping.bound(worker, stop, settings.stop_within_s)  # `streams.stopping`
        if parent is not None:
            stop_with_parent(stop, parent)
        if args.demo_days:
            _publish_in_background(settings, scenario, seed, args.demo_days, args.speed)
        try:
            return _run_until_stopped(worker, stop, args.exit_when_idle)
        finally:
            deadline.exiting()  # bounded until the process is gone, not only its close
    finally:
        if broker is not None:
            broker.stop()


def _run_until_stopped(worker: Worker, stop: threading.Event, idle_exit_s: float | None) -> int:
    """Run, close, and the exit code (`streams.stopping`)."""
    try:
        worker.run(stop, idle_exit_s=idle_exit_s)
    except BrokerLostError as lost:  # for a supervisor to start the worker again
        log.error("%s: storing the twin's state and exiting", lost)
        stop.set()  # its close bounded too
        worker.close()
        return EXIT_BROKER_LOST
    worker.close()
    return stopping.exit_code(worker)


def run_record(args: argparse.Namespace, open_store: StoreFactory | None) -> int:
    """Write a log from the topics, or from the archive with `--from-archive`."""
    _logging()
    settings = _settings(args, None)
    prepare_output_log(args.out, "OUT")
    stats: RecordStats
    if args.from_archive:
        store = _store(args.store, open_store, required=True)
        stats = record_archive(store, args.out, start=args.start, end=args.end)
    else:
        with _broker_must_answer(settings):
            stats = record_topics(settings, args.out, timeout_s=args.timeout)
    skipped = ", ".join(f"{reason}: {n}" for reason, n in sorted(stats.skipped.items()))
    print(f"read {stats.read:,}, wrote {stats.written:,} events to {args.out}")
    if skipped:
        print(f"skipped (not valid events): {skipped}", file=sys.stderr)
    return 0


def run_publish(args: argparse.Namespace) -> int:
    """Produce a log, or `--days` of generated traffic, onto the topics."""
    _logging()
    settings = _settings(args, None)
    if args.generate == (args.log is not None):
        raise UserError("give either a LOG or --generate")
    try:
        pacing = pacing_of(args.speed, args.pace, not_ahead_of_clock=args.no_future)
    except ValueError as error:
        raise UserError(f"{error}; see corridor publish --help") from None
    scenario, seed = _scenario(args)
    if args.generate:
        start = args.start or scenario.start or DEFAULT_START
        days = check_days(args.days)
        events: Any = generate(scenario.stations, days=days, seed=seed, start=start)
    else:
        events = _log_events(check_input_log(args.log))
    with _broker_must_answer(settings):
        stats = publish(events, settings, pacing=pacing)
    print(f"published {stats.produced:,} events in {stats.seconds:.1f} s")
    return 0


def _kafka_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Kafka (override CORRIDOR_KAFKA_* variables)")
    group.add_argument("--bootstrap-servers", help="host:port[,host:port...]")
    group.add_argument("--group-id", help="consumer group id (offsets in the store)")
    group.add_argument(
        "--membership",
        choices=("assigned", "group"),
        help="assigned: take every partition; group: share them with the group's workers",
    )
    group.add_argument("--partitions", type=int, help="partitions of the topics created here")
    group.add_argument("--lateness", type=float, metavar="MIN", help="allowed lateness, minutes")
    group.add_argument("--batch-size", type=int, help="messages per batch")


def _model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument("--scenario", type=Path, help="TOML overrides (docs/scenarios.md)")


def _settings(args: argparse.Namespace, broker: EmbeddedBroker | None) -> KafkaSettings:
    given: dict[str, Any] = {
        "bootstrap_servers": broker.bootstrap_servers if broker else args.bootstrap_servers,
        "group_id": args.group_id,
        "membership": args.membership,
        "partitions": args.partitions,
        "lateness": timedelta(minutes=args.lateness) if args.lateness is not None else None,
        "batch_size": args.batch_size,
    }
    try:
        return KafkaSettings(**{key: value for key, value in given.items() if value is not None})
    except ValidationError as error:
        raise UserError(f"Kafka settings: {one_line(str(error))}") from None


@contextmanager
def _broker_must_answer(settings: KafkaSettings) -> Iterator[None]:
    """A broker that does not answer (or stops answering) is one line naming it and the fix.

    Only around starting work: once the worker runs, `streams.broker_recovery` rides out a
    broker that goes away.
    """
    try:
        yield
    except KafkaException as error:
        cause = error.args[0] if error.args else None
        reason = cause.str() if isinstance(cause, KafkaError) else str(error)
        raise UserError(_no_broker(settings, reason)) from None
    except RuntimeError as error:  # publish: messages not delivered before the flush timeout
        raise UserError(_no_broker(settings, str(error))) from None


def _no_broker(settings: KafkaSettings, reason: str) -> str:
    return (
        f"the Kafka broker at {settings.bootstrap_servers} does not answer ({reason}); start it, "
        "or give --bootstrap-servers (or CORRIDOR_KAFKA_BOOTSTRAP_SERVERS) of one that runs"
    )


def _scenario(args: argparse.Namespace) -> tuple[Scenario, int]:
    try:
        scenario = load_scenario(args.scenario)
    except ValueError as error:
        raise UserError(str(error)) from None
    seed = next(s for s in (args.seed, scenario.seed, DEFAULT_SEED) if s is not None)
    return scenario, seed


def _store(url: str | None, open_store: StoreFactory | None, *, required: bool) -> TwinStore:
    if open_store is None:
        if required or url is not None:
            raise UserError("no durable store is wired into this command line")
        log.warning("no durable store wired: keeping the twin in memory only")
        return MemoryStore()
    return open_store(url)


def _log_events(path: Path) -> list[Event]:
    events: list[Event] = []
    try:
        for item in eventlog.read_log(path):
            if isinstance(item, eventlog.LogError):
                print(f"{path}:{item.line}: skipped: {item.error}", file=sys.stderr)
            else:
                events.append(item)
    except (eventlog.LogFileError, ValueError) as error:
        raise UserError(f"{error}; check that it is an event log (docs/events.md)") from None
    return events


def _publish_in_background(
    settings: KafkaSettings, scenario: Scenario, seed: int, days: int, speed: float | None
) -> None:
    events = generate(
        scenario.stations, days=days, seed=seed, start=scenario.start or DEFAULT_START
    )
    thread = threading.Thread(
        target=publish, args=(events, settings), kwargs={"speed": speed}, daemon=True
    )
    thread.start()


def _logging() -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )


def main(argv: Sequence[str] | None = None, *, open_store: StoreFactory | None = None) -> int:
    """The three commands on their own (`python -m streams.cli`)."""
    parser = CorridorParser(prog="python -m streams.cli")
    add_global_options(parser)
    commands = subcommands(parser.add_subparsers(dest="command", required=True))
    add_commands(commands, open_store=open_store)
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except Exception as error:  # every error becomes one line (errors.report)
        return report(f"{parser.prog} {args.command}", error, debug=args.debug)
    return code


if __name__ == "__main__":
    sys.exit(main())

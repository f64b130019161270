"""`corridor calibrate`: observed against modelled milestones, and the scenario they fit.

The input is a log file (what `corridor replay` reads) or a store URL (`sqlite:///./corridor.db`,
`postgresql+psycopg://...`), whose archive is first written to `DIR/archive.jsonl` exactly as
`corridor record --from-archive` writes it. The fit is `corridor.calibration`'s; this module only
reads the input and reports (`docs/calibration.md`).
"""

import argparse
import sys
from datetime import datetime
from pathlib import Path

from corridor import jobs
from corridor.calibration.outputs import write_calibration
from corridor.calibration.search import MAX_ROUNDS, Calibration, calibrate
from corridor.calibration.summary import comparison
from corridor.cli.run_commands import UserError
from corridor.engine.clock import aware_datetime
from corridor.scenario import load_scenario

ARCHIVE_LOG = "archive.jsonl"


def add_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Register `calibrate`."""
    command = commands.add_parser(
        "calibrate", help="compare observed and modelled milestones; fit a scenario to them"
    )
    command.add_argument(
        "source",
        metavar="LOG_OR_ARCHIVE",
        help="event log file, or a store URL to read its archive",
    )
    command.add_argument("--out", type=Path, required=True, help="report directory")
    command.add_argument("--seed", type=int, help=f"random seed (default {jobs.DEFAULT_SEED})")
    command.add_argument("--scenario", type=Path, help="the scenario to start from (TOML)")
    command.add_argument(
        "--max-rounds", type=int, default=MAX_ROUNDS, help="replays of the fit at most"
    )
    command.add_argument("--start", type=aware_datetime, help="archive: events from (RFC 3339)")
    command.add_argument("--end", type=aware_datetime, help="archive: events before (RFC 3339)")
    command.add_argument("--quiet", action="store_true", help="no summary")
    command.set_defaults(handler=run_calibrate)


def run_calibrate(args: argparse.Namespace) -> int:
    """Fit, write the four files, print where they are and the bias before and after."""
    if args.max_rounds < 0:
        raise UserError(f"--max-rounds must be at least 0, got {args.max_rounds}")
    try:
        base = load_scenario(args.scenario)
    except ValueError as error:
        raise UserError(str(error)) from None
    seed = jobs.choose_seed(args.seed, base)
    if seed < 0:
        raise UserError(f"--seed must be non-negative, got {seed}")
    log = _log_of(args.source, args.out, args.start, args.end)
    try:
        events, rejections = jobs.read_events(log)
    except jobs.JobError as error:
        raise UserError(f"{log}: {error}") from None
    for rejection in rejections:
        print(f"{log}:{rejection.line}: skipped: {rejection.error}", file=sys.stderr)
    if not events:
        raise UserError(f"{log}: the log has no valid event ({len(rejections)} rejected lines)")
    calibration = calibrate(events, base, seed, max_rounds=args.max_rounds)
    scenario_path = write_calibration(calibration, args.out, str(args.source), len(events))
    if not args.quiet:
        _print_summary(calibration, scenario_path)
    return 0


def _log_of(source: str, out: Path, start: datetime | None, end: datetime | None) -> Path:
    """The log to read: `source` itself, or its archive written out first."""
    if "://" not in source:
        if start is not None or end is not None:
            raise UserError("--start and --end select from an archive, not from a log file")
        return Path(source)
    out.mkdir(parents=True, exist_ok=True)
    log = out / ARCHIVE_LOG
    _record_archive(source, log, start, end)
    return log


def _record_archive(url: str, log: Path, start: datetime | None, end: datetime | None) -> None:
    from api.store.sql_store import SqlStore
    from streams.record import record_archive

    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        raise UserError(f"{url}: no such database file")  # opening it would create one
    try:
        store = SqlStore.open(url, migrate=False)
    except Exception as error:  # the driver's errors (SQLAlchemy's) are not importable here
        raise UserError(f"{url}: cannot open the store: {error}") from None
    try:
        stats = record_archive(store, log, start=start, end=end)
    except Exception as error:  # a store without the archive table, a lost connection
        raise UserError(f"{url}: cannot read the archive: {error}") from None
    finally:
        store.close()
    print(f"read {stats.read:,} archived events, wrote {stats.written:,} to {log}")


def _print_summary(calibration: Calibration, scenario_path: Path) -> None:
    for row in comparison(calibration).to_dict("records"):
        print(
            f"{row['yard']:<12} {row['stage']:<16} n={row['n']:<6} "
            f"bias {row['bias_p50_before']:+7.2f} -> {row['bias_p50_after']:+7.2f} min"
        )
    print(f"fitted scenario: {scenario_path}; report: {scenario_path.parent / 'calibration.md'}")

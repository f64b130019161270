"""`corridor generate`, `simulate` and `replay`: the planner's and CI's commands."""

import argparse
import sys
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

from corridor import jobs
from corridor.cli.checks import (
    MAX_DAYS,
    check_days,
    check_input_log,
    check_seed,
    prepare_output_dir,
    prepare_output_log,
)
from corridor.cli.errors import UserError
from corridor.cli.output import bottleneck_line, print_summary, write_outputs
from corridor.cli.progress import Bars
from corridor.contract import eventlog
from corridor.contract.events import Event
from corridor.engine.clock import aware_datetime
from corridor.experiments.executors import Executor
from corridor.experiments.runs import ReplicatedRun, replicate, write_replicated
from corridor.scenario import DEFAULT_START, Scenario, load_scenario
from corridor.traffic.generator import generate
from stations.catalog import StationFileError

DEFAULT_SEED = jobs.DEFAULT_SEED  # where the other commands (streams.cli) read it
DEFAULT_DAYS = 7
__all__ = ["DEFAULT_SEED", "UserError", "add_commands"]  # UserError: streams.cli raises it


def add_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Register the core commands."""
    generate_cmd = commands.add_parser("generate", help="write a synthetic event log")
    _add_run_options(generate_cmd)
    generate_cmd.add_argument("--mode", choices=["realistic", "poisson"], default="realistic")
    generate_cmd.add_argument(
        "--trucks-per-hour", type=float, default=30.0, help="poisson mode: arrivals per yard-hour"
    )
    generate_cmd.add_argument(
        "--out", type=Path, required=True, help="log file (.jsonl or .parquet)"
    )
    generate_cmd.set_defaults(handler=run_generate)

    simulate_cmd = commands.add_parser("simulate", help="generate traffic and run the twin on it")
    _add_run_options(simulate_cmd)
    simulate_cmd.add_argument("--out", type=Path, default=Path("out"), help="report directory")
    simulate_cmd.add_argument("--log", type=Path, help="also keep the generated log here")
    _add_replication_options(simulate_cmd)
    simulate_cmd.set_defaults(handler=run_simulate)

    replay_cmd = commands.add_parser("replay", help="run the twin on a recorded event log")
    replay_cmd.add_argument("log", type=Path, help="event log (.jsonl, .jsonl.gz or .parquet)")
    replay_cmd.add_argument(
        "--seed", type=int, help=f"random seed (default: the log's, else {DEFAULT_SEED})"
    )
    replay_cmd.add_argument("--scenario", type=Path, help="TOML overrides (docs/scenarios.md)")
    replay_cmd.add_argument("--until", type=aware_datetime, help="run the clocks to this time")
    replay_cmd.add_argument("--out", type=Path, default=Path("out"), help="report directory")
    replay_cmd.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    _add_replication_options(replay_cmd)
    replay_cmd.set_defaults(handler=run_replay)


def run_generate(args: argparse.Namespace) -> int:
    """Write `--days` of traffic for the three yards to a log."""
    scenario, seed, days, start = _resolve(args)
    prepare_output_log(args.out)
    rates = dict.fromkeys(scenario.stations, args.trucks_per_hour)
    with Bars(quiet=args.quiet).phase("generating", total=days, unit="day") as update:
        events = generate(
            scenario.stations,
            days=days,
            seed=seed,
            start=start,
            mode=args.mode,
            poisson_trucks_per_hour=rates,
            progress=update,
        )
        written = _write_log(events, args.out, seed)
    if not args.quiet:
        print(f"wrote {written:,} events ({days} days, seed {seed}) to {args.out}")
    return 0


def run_simulate(args: argparse.Namespace) -> int:
    """Generate traffic and replay it in one go."""
    scenario, seed, days, start = _resolve(args)
    warmup = _replication_warmup(args, timedelta(days=days))
    if args.log is not None:
        prepare_output_log(args.log, "--log")
    prepare_output_dir(args.out)
    if args.replications > 1:
        job = jobs.SimulateJob(scenario, seed, start, days, warmup=warmup)
        if args.log is not None:  # replication 0's traffic, as a single run would keep it
            _write_log(
                generate(scenario.stations, days=days, seed=seed, start=start), args.log, seed
            )
        _replicate(args, job)
        return 0
    bars = Bars(quiet=args.quiet)
    if args.log is not None:  # generated again below: the same events, never all in memory
        with bars.phase("writing the log", total=days, unit="day") as update:
            traffic = generate(scenario.stations, days=days, seed=seed, start=start,
                               progress=update)  # fmt: skip
            _write_log(traffic, args.log, seed)
    began = time.perf_counter()
    with bars.phase("simulating", total=days, unit="day") as update:
        events = generate(scenario.stations, days=days, seed=seed, start=start, progress=update)
        result = jobs.replay_events(  # streamed: generated a day at a time as the twin runs
            events, scenario, source=jobs.simulation_input(scenario, seed, days, start),
            seed=seed, start=start, until=start + timedelta(days=days), warmup=warmup,
        )  # fmt: skip
    return _finish(args, result, began, scenario)


def run_replay(args: argparse.Namespace) -> int:
    """Replay a recorded log; malformed lines are reported and skipped."""
    scenario = _load_scenario(args.scenario)
    warmup = _replication_warmup(args, None)
    check_input_log(args.log)
    seed = _replay_seed(args, scenario)
    prepare_output_dir(args.out)
    if args.replications > 1:
        job = jobs.ReplayJob(scenario, args.log, seed, args.until, warmup=warmup)
        for rejection in _replicate(args, job).results[0].rejections:  # the same in every one
            print(f"{args.log}:{rejection.line}: skipped: {rejection.error}", file=sys.stderr)
        return 0
    began = time.perf_counter()
    try:
        with Bars(quiet=args.quiet).replay() as bar:
            result = jobs.replay_log(
                args.log, scenario, seed=seed, until=args.until, progress=bar.start,
                warmup=warmup,
            )  # fmt: skip
    except jobs.JobError as error:
        raise UserError(_log_problem(args.log, str(error))) from None
    for rejection in result.rejections:
        print(f"{args.log}:{rejection.line}: skipped: {rejection.error}", file=sys.stderr)
    return _finish(args, result, began, scenario)


def _replay_seed(args: argparse.Namespace, scenario: Scenario) -> int | None:
    """--seed, else the scenario's, else the seed the log's header records (None: the default)."""
    if args.seed is not None:
        return check_seed(int(args.seed))
    if scenario.seed is not None:
        return None  # jobs.choose_seed takes the scenario's
    try:
        header = eventlog.read_header(args.log)
    except eventlog.LogFileError as error:  # the wording jobs.read_events gives the same fault
        raise UserError(_log_problem(args.log, f"the log cannot be read: {error.reason}")) from None
    if header is None or header.seed is None:
        return None
    if not args.quiet:
        print(f"seed {header.seed}, from the log's header (--seed overrides it)")
    return header.seed


def _log_problem(path: Path, problem: str) -> str:
    """The log's path once (some messages start with it already), the problem and the fix."""
    problem = problem.removeprefix(f"{path}: ")
    return f"{path}: {problem}; check that it is an event log (docs/events.md)"


def _finish(
    args: argparse.Namespace, result: jobs.JobResult, began: float, scenario: Scenario
) -> int:
    frames = len(result.frames) + 1  # the record tables and kpis.json
    with Bars(quiet=args.quiet).phase("writing", total=frames, unit="file") as update:
        write_outputs(result, args.out, written=update)
    if not args.quiet:
        print_summary(result.report, args.out, time.perf_counter() - began)
        print(bottleneck_line(result, scenario.stations))
    return 0


def _add_replication_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--replications",
        type=int,
        default=1,
        metavar="N",
        help="independent replications; N >= 2 reports mean and 95%% interval per KPI "
        "(docs/replications.md)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=0.0,
        metavar="H",
        help="hours at the start left out of the KPIs (docs/kpis.md, Warm-up)",
    )
    parser.add_argument(
        "--executor",
        choices=["processes", "dask"],
        default="processes",
        help="where replications run: this machine's cores, or a Dask cluster",
    )
    parser.add_argument(
        "--scheduler", metavar="ADDRESS", help="--executor dask: the scheduler, tcp://host:8786"
    )


def _replication_warmup(args: argparse.Namespace, period: timedelta | None) -> timedelta:
    """The warm-up, once `--replications` and `--warmup` are checked against the run."""
    if args.replications < 1:
        raise UserError(f"--replications must be at least 1, got {args.replications}")
    if not 0 <= args.warmup < 1e6:  # also refuses NaN
        raise UserError(f"--warmup must be hours >= 0, got {args.warmup}")
    warmup = timedelta(hours=args.warmup)
    if period is not None and warmup >= period:
        raise UserError(f"--warmup ({args.warmup} h) must be shorter than the run ({period})")
    return warmup


def _replicate(args: argparse.Namespace, job: jobs.SimulateJob | jobs.ReplayJob) -> ReplicatedRun:
    began = time.perf_counter()
    bars = Bars(quiet=args.quiet)
    try:
        executor = Executor(args.executor, scheduler=args.scheduler)
        with bars.phase("replications", total=args.replications, unit="run") as update:
            run = replicate(job, args.replications, executor, done=update)
    except ValueError as error:  # JobError included: a bad log, a warm-up longer than the log
        where = f"{job.log}: " if isinstance(job, jobs.ReplayJob) else ""
        raise UserError(f"{where}{error}") from None
    with bars.phase("writing", total=1, unit="dir") as update:
        write_replicated(run, args.out)
        update(1)
    if not args.quiet:
        print(
            f"{args.replications} replications in {time.perf_counter() - began:.1f} s; "
            f"wrote {args.out / 'kpis.json'} (mean and 95% interval per KPI) and "
            f"{args.out / 'replications.parquet'}"
        )
    return run


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument(
        "--days", type=int, help=f"days of traffic, 1 to {MAX_DAYS} (default {DEFAULT_DAYS})"
    )
    parser.add_argument(
        "--start", type=aware_datetime, help="first day, RFC 3339 (default 2026-01-05T00:00+08:00)"
    )
    parser.add_argument("--scenario", type=Path, help="TOML overrides (docs/scenarios.md)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")


def _resolve(args: argparse.Namespace) -> tuple[Scenario, int, int, datetime]:
    scenario = _load_scenario(args.scenario)
    seed = jobs.choose_seed(args.seed, scenario)
    days = next(value for value in (args.days, scenario.days, DEFAULT_DAYS) if value is not None)
    check_days(days, "--days" if args.days is not None else f"{args.scenario}: run.days")
    check_seed(seed)
    start = args.start or scenario.start or DEFAULT_START
    return scenario, seed, days, start


def _load_scenario(path: Path | None) -> Scenario:
    try:
        return load_scenario(path)
    except StationFileError:
        raise  # a station file's own mistake, reported as such (corridor.cli.errors)
    except ValueError as error:
        problem = str(error).removeprefix(f"{path}: ")
        raise UserError(f"{path}: {problem}; fix the scenario (docs/scenarios.md)") from None


def _write_log(events: Iterable[Event], path: Path, seed: int) -> int:
    try:
        return eventlog.write_log(events, path, header=eventlog.LogHeader(seed=seed))
    except (ValueError, eventlog.LogFileError) as error:
        problem = str(error).removeprefix(f"{path}: ")
        raise UserError(f"{path}: cannot write the log ({problem}); choose another path") from None

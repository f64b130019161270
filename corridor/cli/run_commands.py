"""`corridor generate`, `simulate` and `replay`: the planner's and CI's commands."""

import argparse
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from corridor import jobs
from corridor.cli.output import print_summary, write_outputs
from corridor.contract import eventlog
from corridor.engine.clock import aware_datetime
from corridor.engine.twin import Progress
from corridor.kpis.result import InputInfo
from corridor.kpis.run_info import generated_input, scenario_info
from corridor.scenario import DEFAULT_START, Scenario, load_scenario
from corridor.traffic.generator import generate

DEFAULT_SEED = jobs.DEFAULT_SEED  # where the other commands (streams.cli) read it
DEFAULT_DAYS = 7


class UserError(Exception):
    """Bad input from the person at the terminal: printed as one line, exit code 2."""


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
    simulate_cmd.set_defaults(handler=run_simulate)

    replay_cmd = commands.add_parser("replay", help="run the twin on a recorded event log")
    replay_cmd.add_argument("log", type=Path, help="event log (.jsonl, .jsonl.gz or .parquet)")
    replay_cmd.add_argument("--seed", type=int, help=f"random seed (default {DEFAULT_SEED})")
    replay_cmd.add_argument("--scenario", type=Path, help="TOML overrides (docs/scenarios.md)")
    replay_cmd.add_argument("--until", type=aware_datetime, help="run the clocks to this time")
    replay_cmd.add_argument("--out", type=Path, default=Path("out"), help="report directory")
    replay_cmd.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    replay_cmd.set_defaults(handler=run_replay)


def run_generate(args: argparse.Namespace) -> int:
    """Write `--days` of traffic for the three yards to a log."""
    scenario, seed, days, start = _resolve(args)
    rates = dict.fromkeys(scenario.stations, args.trucks_per_hour)
    events = generate(
        scenario.stations,
        days=days,
        seed=seed,
        start=start,
        mode=args.mode,
        poisson_trucks_per_hour=rates,
    )
    written = _write_log(events, args.out)
    if not args.quiet:
        print(f"wrote {written:,} events ({days} days, seed {seed}) to {args.out}")
    return 0


def run_simulate(args: argparse.Namespace) -> int:
    """Generate traffic and replay it in one go."""
    scenario, seed, days, start = _resolve(args)
    events = list(generate(scenario.stations, days=days, seed=seed, start=start))
    if args.log is not None:
        _write_log(events, args.log)
    began = time.perf_counter()
    with _progress_bar(args.quiet) as bar:
        result = jobs.replay_events(
            events, scenario, source=_generated(scenario, seed, days, start), seed=seed,
            start=start, until=start + timedelta(days=days), progress=bar.start,
        )  # fmt: skip
    return _finish(args, result, began)


def run_replay(args: argparse.Namespace) -> int:
    """Replay a recorded log; malformed lines are reported and skipped."""
    scenario = _load_scenario(args.scenario)
    began = time.perf_counter()
    try:
        with _progress_bar(args.quiet) as bar:
            result = jobs.replay_log(
                args.log, scenario, seed=args.seed, until=args.until, progress=bar.start
            )
    except jobs.JobError as error:
        raise UserError(f"{args.log}: {error}") from None
    for rejection in result.rejections:
        print(f"{args.log}:{rejection.line}: skipped: {rejection.error}", file=sys.stderr)
    return _finish(args, result, began)


def _finish(args: argparse.Namespace, result: jobs.JobResult, began: float) -> int:
    write_outputs(result, args.out)
    if not args.quiet:
        print_summary(result.report, args.out, time.perf_counter() - began)
    return 0


def _generated(scenario: Scenario, seed: int, days: int, start: datetime) -> InputInfo:
    """`run.input` of a simulation: the parameters its events were generated with."""
    return generated_input(
        {
            "mode": "realistic",
            "days": days,
            "seed": seed,
            "start": start.isoformat(),
            "stations": scenario_info(scenario.name, scenario.stations)["digest"],
        }
    )


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument("--days", type=int, help=f"days of traffic (default {DEFAULT_DAYS})")
    parser.add_argument(
        "--start", type=aware_datetime, help="first day, RFC 3339 (default 2026-01-05T00:00+08:00)"
    )
    parser.add_argument("--scenario", type=Path, help="TOML overrides (docs/scenarios.md)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")


def _resolve(args: argparse.Namespace) -> tuple[Scenario, int, int, datetime]:
    scenario = _load_scenario(args.scenario)
    seed = jobs.choose_seed(args.seed, scenario)
    days = next(value for value in (args.days, scenario.days, DEFAULT_DAYS) if value is not None)
    if days < 1:
        raise UserError(f"--days must be at least 1, got {days}")
    if seed < 0:
        raise UserError(f"--seed must be non-negative, got {seed}")
    start = args.start or scenario.start or DEFAULT_START
    return scenario, seed, days, start


def _load_scenario(path: Path | None) -> Scenario:
    try:
        return load_scenario(path)
    except ValueError as error:
        raise UserError(str(error)) from None


def _write_log(events: Any, path: Path) -> int:
    try:
        return eventlog.write_log(events, path)
    except (ValueError, OSError) as error:
        raise UserError(f"{path}: {error}") from None


class _progress_bar:  # noqa: N801 - used as a context manager, reads like a function
    """A tqdm bar on a terminal for long runs; nothing when quiet or not a terminal."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.bar: Any = None

    def __enter__(self) -> "_progress_bar":
        return self

    def start(self, total: int) -> Progress | None:
        """Where the replay of `total` events reports its progress (None: not shown)."""
        if self.quiet or not sys.stderr.isatty() or total <= 200_000:
            return None
        from tqdm import tqdm

        self.bar = tqdm(total=total, unit="ev", unit_scale=True, file=sys.stderr)
        return self._update

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()

    def _update(self, done: int) -> None:
        self.bar.update(done - self.bar.n)

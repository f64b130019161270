"""`corridor compare BASE SCENARIO... --out DIR`: which lever's difference is real."""

import argparse
from pathlib import Path

from corridor.cli.run_commands import UserError
from corridor.compare.report import compare_paths, write_comparison
from corridor.compare.runs import RunPlan
from corridor.jobs import DEFAULT_SEED


def add_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Register `compare`."""
    compare = commands.add_parser(
        "compare",
        help="compare scenarios with a base: differences with 95 % intervals, HTML report",
        description="Each of BASE and SCENARIO is a run directory (corridor simulate/replay "
        "--out) or a scenario file (.toml), which is then run here for --replications "
        "replications of --days generated days, seeds SEED, SEED+1, ... for every run alike "
        "(common random numbers: compared pair by pair). See docs/compare.md.",
    )
    compare.add_argument("base", type=Path, help="the base: run directory or scenario file")
    compare.add_argument("scenarios", type=Path, nargs="+", metavar="SCENARIO")
    compare.add_argument("--out", type=Path, required=True, help="folder for the report")
    compare.add_argument("--replications", type=int, default=10, help="per scenario file (10)")
    compare.add_argument("--days", type=int, default=7, help="days per replication (7)")
    compare.add_argument("--seed", type=int, default=DEFAULT_SEED, help="first seed")
    compare.add_argument("--workers", type=int, default=1, help="processes for scenario files")
    compare.add_argument("--quiet", action="store_true", help="no summary")
    compare.set_defaults(handler=run_compare)


def run_compare(args: argparse.Namespace) -> int:
    """Load or run every side, compare, and write the three files."""
    plan = _plan(args)
    try:
        comparison = compare_paths(args.base, args.scenarios, plan)
    except ValueError as error:
        raise UserError(str(error)) from None
    try:
        paths = write_comparison(comparison, args.out)
    except OSError as error:
        raise UserError(f"{args.out}: cannot write the report: {error.strerror}") from None
    if not args.quiet:
        frame = comparison.frame
        for scenario in comparison.scenarios:
            rows = frame[frame["scenario"] == scenario.name]
            print(f"{scenario.name}: {int(rows['significant'].sum())} of {len(rows)} KPIs differ")
        print(f"wrote {', '.join(str(path) for path in paths)}")
    return 0


def _plan(args: argparse.Namespace) -> RunPlan:
    for option in ("replications", "days", "workers"):
        if getattr(args, option) < 1:
            raise UserError(f"--{option} must be at least 1, got {getattr(args, option)}")
    if args.seed < 0:
        raise UserError(f"--seed must be non-negative, got {args.seed}")
    return RunPlan(args.replications, args.days, args.seed, workers=args.workers)

"""`corridor`: the command line, and the one composition root of the project.

The core commands (generate, simulate, replay) use only the pure core; `worker`, `record`,
`publish` (Kafka, in `streams`) and `api` (in `api`) are registered from their packages here,
which is why only this package may import them. Errors are printed by `corridor.cli.errors`
(one line, exit code 2 for bad input), usage mistakes by `corridor.cli.parser`, progress bars
by `corridor.cli.progress`.
"""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from corridor.cli import (
    calibrate_commands,
    compare_commands,
    dcsa_commands,
    errors,
    run_commands,
    up_command,
)
from corridor.cli.parser import (
    CorridorParser,
    accept_debug_after_commands,
    add_global_options,
    subcommands,
)
from corridor.runtime import tune_gc_for_a_long_lived_twin
from stations.catalog import use_station_dirs


def build_parser() -> argparse.ArgumentParser:
    """The full command tree."""
    parser = CorridorParser(
        prog="corridor",
        description="Digital twin of the Chongqing corridor rail container yards.",
    )
    parser.add_argument(
        "--stations",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="also read station files (one TOML per yard) from DIR; same as CORRIDOR_STATIONS_DIR",
    )
    add_global_options(parser)
    commands = subcommands(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    run_commands.add_commands(commands)
    dcsa_commands.add_commands(commands)
    calibrate_commands.add_commands(commands)
    compare_commands.add_commands(commands)
    _add_edge_commands(commands)
    up_command.add_commands(commands)
    accept_debug_after_commands(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; exit code 0 on success, 2 on bad input, 1 on a bug."""
    parser = build_parser()
    args = parser.parse_args(argv)
    tune_gc_for_a_long_lived_twin()
    try:
        if args.stations:
            use_station_dirs(args.stations)
        code: int = args.handler(args)
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # every error becomes one line (errors.report)
        return errors.report(f"corridor {args.command}", error, debug=args.debug)
    return code


def _add_edge_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    from api import cli as api_cli
    from streams import broker_command
    from streams import cli as streams_cli

    streams_cli.add_commands(commands, open_store=api_cli.open_store)
    broker_command.add_command(commands)
    api_cli.add_commands(commands)


if __name__ == "__main__":
    sys.exit(main())

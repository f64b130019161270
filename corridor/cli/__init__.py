"""`corridor`: the command line, and the one composition root of the project.

The core commands (generate, simulate, replay) use only the pure core; `worker`, `record`,
`publish` (Kafka, in `streams`) and `api` (in `api`) are registered from their packages here,
which is why only this package may import them.
"""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from corridor.cli import calibrate_commands, compare_commands, dcsa_commands, run_commands
from corridor.runtime import tune_gc_for_a_long_lived_twin
from stations.catalog import StationFileError, use_station_dirs


def build_parser() -> argparse.ArgumentParser:
    """The full command tree."""
    parser = argparse.ArgumentParser(
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
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run_commands.add_commands(commands)
    dcsa_commands.add_commands(commands)
    calibrate_commands.add_commands(commands)
    compare_commands.add_commands(commands)
    _add_edge_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; exit code 0 on success, 2 on bad input."""
    parser = build_parser()
    args = parser.parse_args(argv)
    tune_gc_for_a_long_lived_twin()
    try:
        if args.stations:
            use_station_dirs(args.stations)
        code: int = args.handler(args)
    except (run_commands.UserError, StationFileError) as error:
        print(f"corridor {args.command}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


def _add_edge_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    from api import cli as api_cli
    from api.store.sql_store import SqlStore
    from streams import cli as streams_cli

    streams_cli.add_commands(commands, open_store=SqlStore.open)
    api_cli.add_commands(commands)


if __name__ == "__main__":
    sys.exit(main())

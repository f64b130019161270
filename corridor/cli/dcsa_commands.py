"""`corridor import-dcsa`: DCSA Track & Trace files to a v1 event log.

Every DCSA event that gives no v1 event is printed on stderr with its file, position and
reason; the log holds the rest, in time order. `corridor replay FILE.json` reads a DCSA file
the same way without writing a log.
"""

import argparse
import sys
from pathlib import Path

from corridor.cli.checks import prepare_output_log
from corridor.cli.errors import UserError
from corridor.contract import dcsa, eventlog
from corridor.contract.dcsa_shapes import DcsaFileError
from stations.catalog import station_ids
from stations.spec import load_all_stations


def add_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Register `import-dcsa`."""
    command = commands.add_parser(
        "import-dcsa", help="convert DCSA Track & Trace files (2.2, 3.0) to an event log"
    )
    command.add_argument("files", nargs="+", type=Path, metavar="FILE", help="DCSA JSON files")
    command.add_argument(
        "--out", type=Path, required=True, help="event log (.jsonl, .jsonl.gz or .parquet)"
    )
    command.add_argument(
        "--facility",
        action="append",
        default=[],
        metavar="CODE=YARD",
        help="also read this facility or location code as a yard, e.g. CNCKG=yuzui (repeatable)",
    )
    command.add_argument(
        "--pickup-turnaround-min",
        type=float,
        default=dcsa.PICKUP_TURNAROUND_MIN,
        help="an import pickup without a truck ARRI arrived this long before its GTOT",
    )
    command.add_argument("--quiet", action="store_true", help="no summary line")
    command.set_defaults(handler=run_import_dcsa)


def run_import_dcsa(args: argparse.Namespace) -> int:
    """Convert, report what did not map, write the log; exit code 2 on a bad input or output."""
    try:
        facilities = _facilities(args.facility)
        prepare_output_log(args.out)
        conversion = dcsa.import_dcsa_files(
            args.files,
            load_all_stations(),
            facilities=facilities,
            pickup_turnaround_min=args.pickup_turnaround_min,
        )
    except DcsaFileError as error:
        return _refuse(f"{error}; check that it is a DCSA Track & Trace JSON file (docs/events.md)")
    except (ValueError, UserError) as error:
        return _refuse(str(error))
    for note in conversion.notes:
        print(f"skipped: {note}", file=sys.stderr)
    if not conversion.events:
        return _refuse(f"no DCSA event maps to the twin ({len(conversion.notes)} skipped)")
    try:
        written = eventlog.write_log(conversion.events, args.out)
    except (ValueError, eventlog.LogFileError) as error:
        return _refuse(str(error))
    if not args.quiet:
        print(
            f"wrote {written:,} events to {args.out} from {len(conversion.used):,} DCSA events; "
            f"{len(conversion.notes):,} skipped (listed on stderr)"
        )
    return 0


def _facilities(pairs: list[str]) -> dict[str, str]:
    table = {}
    for pair in pairs:
        code, _, yard = pair.partition("=")
        if not code.strip() or yard not in station_ids():
            raise ValueError(
                f"--facility {pair!r}: expected CODE=YARD, YARD one of {', '.join(station_ids())}"
            )
        table[code] = yard
    return table


def _refuse(message: str) -> int:
    print(f"corridor import-dcsa: {message}", file=sys.stderr)
    return 2

"""Event logs on disk: JSON Lines (optionally gzipped) or Parquet, chosen by the file suffix.

A log is what the yards said, in the v1 event contract, and what `corridor replay` reads. Two
layouts, the same events:

- `.jsonl` (or `.jsonl.gz`): one JSON object per line, exactly the bytes `encode_event` makes.
  A line that is not a valid event is reported as a `LogError` with its line number, the
  reason and the raw bytes (for a dead-letter file); the good lines around it are all kept.
  Blank lines are skipped.
- `.parquet`: one row per event with columns `event_id`, `type`, `yard`, `ts` (timestamp,
  UTC) for querying, and `event`, the exact JSON bytes, which is what is read back, so a
  round trip is lossless. Row groups hold about 100,000 events. A row's "line" is its
  1-based row number.
- `.json`, read only: a DCSA Track & Trace file, converted by `corridor.contract.dcsa`; each
  DCSA event that gives no v1 event is a `LogError` at its position.

A log may carry a header (`LogHeader`: the seed that generated its traffic), which
`corridor replay` uses when no seed is given. In JSON Lines it is the first line,
``{"corridor_log":{"seed":3}}``, skipped by `read_log` (line numbers still count it, so they
stay file lines); in Parquet it is the schema's key-value metadata under ``corridor_log``.
Logs without a header read as before. A reader older than the header reports a JSON Lines
header as one malformed line and keeps every event; Parquet readers ignore the metadata.

A file that cannot be read at all (missing, no permission, not gzip or not Parquet) raises
`LogFileError` naming the path and the reason, before the first item is read.
"""

import contextlib
import gzip
import itertools
import os
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Literal, Protocol

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from corridor.contract import dcsa, dcsa_shapes
from corridor.contract.events import DecodeError, Event, decode_event, event_type
from stations.spec import load_all_stations

LogFormat = Literal["jsonl", "jsonl.gz", "parquet", "dcsa"]
ROW_GROUP_EVENTS = 100_000
_READ_BLOCK = 1 << 22
_WRITE_BATCH = 4096  # events encoded per call
_NEWLINE = 10
_GZIP_MAGIC = b"\x1f\x8b"
_PARQUET_MAGIC = b"PAR1"
_MICROSECOND = timedelta(microseconds=1)
_HEADER_KEY = "corridor_log"
_HEADER_START = b'{"corridor_log":'
_PARQUET_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("type", pa.string()),
        ("yard", pa.string()),
        ("ts", pa.timestamp("us", tz="UTC")),
        ("event", pa.binary()),
    ]
)


@dataclass(frozen=True, slots=True)
class LogError:
    """A line (or Parquet row) of a log that is not a valid event."""

    line: int
    error: DecodeError
    raw: bytes

    def __str__(self) -> str:
        return f"line {self.line}: {self.error}"


LogItem = Event | LogError


class LogHeader(msgspec.Struct, frozen=True):
    """What a log says about itself: the seed its traffic was generated with (if known).

    Unknown fields are ignored, so a later writer may add some without breaking this reader.
    """

    seed: int | None = None


class _HeaderLine(msgspec.Struct, frozen=True):
    corridor_log: LogHeader


class _Reader(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _Writer(Protocol):
    def write(self, data: bytes | bytearray, /) -> int: ...


class LogFileError(Exception):
    """The log file as a whole cannot be read or written."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def log_format(path: Path) -> LogFormat:
    """The layout a log path names by its suffix; ValueError for any other suffix."""
    name = path.name.lower()
    if name.endswith(".jsonl.gz"):
        return "jsonl.gz"
    if name.endswith(".jsonl"):
        return "jsonl"
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith(".json"):
        return "dcsa"  # read only: DCSA Track & Trace, converted (docs/events.md, "DCSA")
    raise ValueError(f"{path}: unknown log format; use a .jsonl, .jsonl.gz or .parquet file")


def write_log(events: Iterable[Event], path: Path, *, header: LogHeader | None = None) -> int:
    """Write events to a log (layout by suffix) and return how many were written.

    The file appears only when complete: it is written under a temporary name, then renamed.
    A `header` is written first (JSON Lines) or as metadata (Parquet); without one the bytes
    are exactly those of a log from before headers existed.
    """
    path = Path(path)
    layout = log_format(path)
    if layout == "dcsa":
        raise ValueError(f"{path}: unknown log format to write (.json is DCSA input); use .jsonl")
    partial = path.with_name(f".{path.name}.partial")
    try:
        if layout == "parquet":
            count = _write_parquet(events, partial, header)
        else:
            count = _write_jsonl(events, partial, header, compressed=layout == "jsonl.gz")
        os.replace(partial, path)
    except OSError as error:
        raise LogFileError(path, error.strerror or str(error)) from error
    finally:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
    return count


def _write_jsonl(
    events: Iterable[Event], path: Path, header: LogHeader | None, *, compressed: bool
) -> int:
    with path.open("wb") as raw_file:
        if not compressed:
            _write_header_line(header, raw_file)
            return _write_lines(events, raw_file)
        # mtime=0 and no file name in the gzip header: the same events give the same bytes
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw_file, mtime=0) as zipped:
            _write_header_line(header, zipped)
            return _write_lines(events, zipped)


def _write_header_line(header: LogHeader | None, sink: _Writer) -> None:
    if header is not None:
        sink.write(msgspec.json.encode(_HeaderLine(header)) + b"\n")


def _write_lines(events: Iterable[Event], sink: _Writer) -> int:
    """Encode in batches: msgspec writes a batch of lines in one call."""
    encoder = msgspec.json.Encoder()
    count = 0
    source = iter(events)
    while batch := list(itertools.islice(source, _WRITE_BATCH)):
        sink.write(encoder.encode_lines(batch))
        count += len(batch)
    return count


def _write_parquet(events: Iterable[Event], path: Path, header: LogHeader | None) -> int:
    encoder = msgspec.json.Encoder()
    count = 0
    source = iter(events)
    schema = _PARQUET_SCHEMA
    if header is not None:
        schema = schema.with_metadata({_HEADER_KEY: msgspec.json.encode(header)})
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        while batch := list(itertools.islice(source, ROW_GROUP_EVENTS)):
            writer.write_table(_table(batch, encoder), row_group_size=ROW_GROUP_EVENTS)
            count += len(batch)
        if count == 0:
            writer.write_table(schema.empty_table())
    return count


def _table(batch: list[Event], encoder: msgspec.json.Encoder) -> pa.Table:
    """One row group; the `event` column is cut from one encoded block of JSON lines."""
    return pa.Table.from_arrays(
        [
            pa.array([event.event_id for event in batch], pa.string()),
            pa.array([event_type(event) for event in batch], pa.string()),
            pa.array([event.yard for event in batch], pa.string()),
            pa.array([event.ts for event in batch], _PARQUET_SCHEMA.field("ts").type),
            _binary_lines(encoder.encode_lines(batch), len(batch)),
        ],
        schema=_PARQUET_SCHEMA,
    )


def _binary_lines(block: bytes, count: int) -> pa.Array:
    """The lines of a newline-terminated block as a binary column, without a copy per line.

    Encoded JSON escapes control characters, so a newline byte only ever ends an event.
    """
    data = np.frombuffer(block, dtype=np.uint8)
    ends = np.flatnonzero(data == _NEWLINE)
    offsets = np.zeros(count + 1, dtype=np.int64)
    offsets[1:] = ends - np.arange(count)  # each earlier newline shifts the line left by one
    body = np.delete(data, ends)
    return pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), count, [None, pa.py_buffer(offsets), pa.py_buffer(body)]
    ).cast(pa.binary())


def read_log(path: Path) -> Iterator[LogItem]:
    """The events of a log, in file order, with a `LogError` for each bad line.

    Never raises on a bad line; raises `LogFileError` at once if the file cannot be read.
    """
    path = Path(path)
    layout = log_format(path)
    if layout == "dcsa":
        return _read_dcsa(path)
    _check_readable(path, layout)
    if layout == "parquet":
        return _read_parquet(path)
    return _read_jsonl(path, compressed=layout == "jsonl.gz")


def read_header(path: Path) -> LogHeader | None:
    """The log's header, or None if it has none (older logs, DCSA files, recorded topics).

    Raises `LogFileError` if the file cannot be read; a header that cannot be decoded counts
    as no header (`read_log` then reports that line like any other bad line).
    """
    path = Path(path)
    layout = log_format(path)
    if layout == "dcsa":
        return None
    _check_readable(path, layout)
    try:
        if layout == "parquet":
            metadata = pq.read_schema(path).metadata or {}
            raw = metadata.get(_HEADER_KEY.encode())
            return None if raw is None else msgspec.json.decode(raw, type=LogHeader)
        with gzip.open(path, "rb") if layout == "jsonl.gz" else path.open("rb") as file:
            return _header_of(file.readline(1 << 16).rstrip(b"\r\n"))
    except (OSError, EOFError, zlib.error, pa.ArrowException) as error:
        raise LogFileError(path, f"read failed: {error}") from error
    except msgspec.DecodeError:
        return None


def _header_of(line: bytes) -> LogHeader | None:
    """The header a JSON Lines first line holds, or None if it is not a header."""
    if not line.startswith(_HEADER_START):
        return None
    try:
        return msgspec.json.decode(line, type=_HeaderLine).corridor_log
    except msgspec.DecodeError:
        return None


def _read_dcsa(path: Path) -> Iterator[LogItem]:
    """A DCSA file converted with the station files' facility codes; notes become LogErrors."""
    try:
        conversion = dcsa.import_dcsa_files([path], load_all_stations())
    except dcsa_shapes.DcsaFileError as error:
        raise LogFileError(path, error.reason) from error
    notes = [LogError(n.position, DecodeError(n.field, n.reason), b"") for n in conversion.notes]
    return iter([*notes, *conversion.events])


def _check_readable(path: Path, layout: LogFormat) -> None:
    try:
        with path.open("rb") as file:
            head = file.read(4)
    except OSError as error:
        raise LogFileError(path, error.strerror or str(error)) from error
    if layout == "jsonl.gz" and head and not head.startswith(_GZIP_MAGIC):
        raise LogFileError(path, "not a gzip file")
    if layout == "parquet":
        if head != _PARQUET_MAGIC:
            raise LogFileError(path, "not a Parquet file")
        try:
            schema = pq.read_schema(path)
        except (OSError, pa.ArrowException) as error:
            raise LogFileError(path, f"not a readable Parquet file: {error}") from error
        if "event" not in schema.names:
            raise LogFileError(path, "Parquet log has no `event` column")


def _read_jsonl(path: Path, *, compressed: bool) -> Iterator[LogItem]:
    try:
        with gzip.open(path, "rb") if compressed else path.open("rb") as file:
            yield from _jsonl_items(file)
    except (OSError, EOFError, zlib.error) as error:
        raise LogFileError(path, f"read failed: {error}") from error


def _jsonl_items(file: _Reader) -> Iterator[LogItem]:
    number = 0
    carry = b""
    while block := file.read(_READ_BLOCK):
        lines = (carry + block).split(b"\n")
        carry = lines.pop()
        if number == 0:
            _blank_a_header(lines)
        yield from _decoded(lines, number)
        number += len(lines)
    if carry:
        last = [carry]
        if number == 0:
            _blank_a_header(last)
        yield from _decoded(last, number)


def _blank_a_header(first_lines: list[bytes]) -> None:
    """A header line becomes blank: skipped like any blank line, the numbering unchanged."""
    if first_lines and _header_of(first_lines[0].rstrip(b"\r")) is not None:
        first_lines[0] = b""


def _decoded(lines: list[bytes], before: int) -> Iterator[LogItem]:
    """Decode lines numbered before+1, before+2, ...; blank lines are skipped."""
    for number, line in enumerate(lines, before + 1):
        raw = line[:-1] if line.endswith(b"\r") else line
        if not raw or raw.isspace():
            continue
        item = decode_event(raw)
        yield LogError(number, item, raw) if isinstance(item, DecodeError) else item


def _read_parquet(path: Path) -> Iterator[LogItem]:
    row = 0
    try:
        with pq.ParquetFile(path) as file:
            for batch in file.iter_batches(columns=["event"], batch_size=ROW_GROUP_EVENTS):
                for raw in batch.column(0).to_pylist():
                    row += 1
                    yield _parquet_item(row, raw)
    except (OSError, pa.ArrowException) as error:
        raise LogFileError(path, f"read failed at row {row + 1}: {error}") from error


def _parquet_item(row: int, raw: bytes | str | None) -> LogItem:
    if raw is None:
        return LogError(row, DecodeError("event", "missing (null)"), b"")
    data = raw.encode() if isinstance(raw, str) else raw
    item = decode_event(data)
    return LogError(row, item, data) if isinstance(item, DecodeError) else item

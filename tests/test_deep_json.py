"""A message nested 5,000 deep is refused quickly, before any parser recurses, wherever it comes
in: a Kafka message, a JSON Lines or Parquet log, `corridor replay`, a DCSA file."""

import json
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corridor.cli import main
from corridor.contract.dcsa import convert_dcsa
from corridor.contract.dcsa_shapes import read_dcsa_bytes
from corridor.contract.eventlog import LogError, read_log, write_log
from corridor.contract.events import MAX_JSON_DEPTH, TOO_DEEP, DecodeError, Event, decode_event
from stations.spec import load_all_stations
from streams.dead_letters import decode_reason
from tests.test_dcsa import v2
from tests.test_events import dispatched

DEEP = 5000


def deep_dispatch(depth: int = DEEP) -> bytes:
    """A valid dispatch with an extra field nested `depth` deep: about 10 KB for 5,000."""
    return dispatched()[:-1] + b', "extra": ' + b"[" * depth + b"]" * depth + b"}"


@contextmanager
def recursion_headroom(frames: int) -> Iterator[None]:
    """Allow only `frames` more levels of recursion (parsers count theirs against it)."""
    frame, depth = sys._getframe(), 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1  # type: ignore[assignment]
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + frames)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def test_a_5000_deep_dispatch_is_refused_as_invalid_depth_before_parsing() -> None:
    raw = deep_dispatch()
    assert 10_000 < len(raw) < 11_000
    with recursion_headroom(40):  # a parser recursing into it would raise RecursionError
        error = decode_event(raw)
    assert isinstance(error, DecodeError)
    assert (error.field, error.reason.split(" ")[:3]) == ("", TOO_DEEP.split(" "))
    assert str(MAX_JSON_DEPTH) in error.reason
    assert decode_reason(error) == "invalid:depth"


def test_the_refusal_takes_microseconds() -> None:
    raw = deep_dispatch()
    durations = []
    for _ in range(25):
        began = time.perf_counter()
        decode_event(raw)
        durations.append(time.perf_counter() - began)
    # about 60 us on a busy 2-core machine; a parser walking 5,000 levels would take longer
    # and end in RecursionError; the bound leaves room for a loaded CI runner
    assert statistics.median(durations) < 0.002


def test_the_limit_is_inclusive() -> None:
    at_limit = deep_dispatch(MAX_JSON_DEPTH - 1)  # the event object itself is level one
    assert not isinstance(decode_event(at_limit), DecodeError)
    assert isinstance(decode_event(deep_dispatch(MAX_JSON_DEPTH)), DecodeError)


@pytest.fixture
def good() -> list[Event]:
    raws = [dispatched(event_id=f"e-{i}", truck_id=f"T{i}") for i in range(3)]
    events = [decode_event(raw) for raw in raws]
    assert all(not isinstance(event, DecodeError) for event in events)
    return events  # type: ignore[return-value]


def test_a_jsonl_log_reports_the_deep_line_by_number_and_keeps_the_rest(
    good: list[Event], tmp_path: Path
) -> None:
    path = tmp_path / "log.jsonl"
    write_log(good, path)
    lines = path.read_bytes().splitlines()
    lines.insert(1, deep_dispatch())
    path.write_bytes(b"\n".join(lines) + b"\n")
    items = list(read_log(path))
    assert [item for item in items if not isinstance(item, LogError)] == good
    [error] = [item for item in items if isinstance(item, LogError)]
    assert error.line == 2
    assert error.error.reason.startswith(TOO_DEEP)
    assert error.raw == deep_dispatch()


def test_a_parquet_log_reports_the_deep_row_and_keeps_the_rest(
    good: list[Event], tmp_path: Path
) -> None:
    path = tmp_path / "log.parquet"
    write_log(good, path)
    table = pq.read_table(path)
    column = table.column("event").to_pylist()
    column.insert(2, deep_dispatch())
    rows = {name: table.column(name).to_pylist() for name in table.column_names}
    for name in ("event_id", "type", "yard", "ts"):
        rows[name].insert(2, rows[name][0])
    rows["event"] = column
    pq.write_table(pa.Table.from_pydict(rows, schema=table.schema), path)
    items = list(read_log(path))
    assert [item for item in items if not isinstance(item, LogError)] == good
    [error] = [item for item in items if isinstance(item, LogError)]
    assert (error.line, error.raw) == (3, deep_dispatch())
    assert error.error.reason.startswith(TOO_DEEP)


def test_corridor_replay_reports_the_deep_line_and_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "day.jsonl"
    assert main(["generate", "--days", "1", "--quiet", "--out", str(log)]) == 0
    lines = log.read_bytes().splitlines()
    lines.insert(6, deep_dispatch())
    log.write_bytes(b"\n".join(lines) + b"\n")
    assert main(["replay", str(log), "--quiet", "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert f"{log}:7: skipped: {TOO_DEEP} {MAX_JSON_DEPTH} levels" in err
    report = json.loads((tmp_path / "out" / "kpis.json").read_text())
    assert report["run"]["events"]["rejected"]["malformed line"] == 1
    assert sum(report["run"]["events"]["applied"].values()) > 100


def test_a_dcsa_file_notes_the_deep_line_and_converts_the_others() -> None:
    lines = [
        json.dumps(v2("GTIN", eventID="a")),
        '{"eventType": "EQUIPMENT", "x": ' + "[" * DEEP + "]" * DEEP + "}",
        json.dumps(v2("GTOT", eventID="b")),
    ]
    with recursion_headroom(60):  # the parser never recurses into the deep line
        items = read_dcsa_bytes("\n".join(lines).encode())
    conversion = convert_dcsa(items, load_all_stations())
    [note] = conversion.notes
    assert note.position == 2
    assert note.reason == f"not readable: {TOO_DEEP} {MAX_JSON_DEPTH} levels of arrays and objects"
    assert len(conversion.events) == 4  # a dispatch and a gate milestone for each gate move


def test_a_deep_dcsa_document_is_one_clear_error() -> None:
    document = '[{"eventType": "EQUIPMENT", "x": ' + "{" * DEEP + "}" * DEEP + "}]"
    with recursion_headroom(60), pytest.raises(ValueError, match=f"not readable: {TOO_DEEP}"):
        read_dcsa_bytes(document.encode())

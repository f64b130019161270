"""Event logs: lossless round trips, bad lines reported by number, unreadable files named."""

import gzip
import os
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corridor.contract import eventlog
from corridor.contract.eventlog import LogError, LogFileError, log_format, read_log, write_log
from corridor.contract.events import Event, TruckGateIn, encode_event, event_type
from corridor.traffic.generator import generate
from stations.spec import load_station

START = datetime(2026, 3, 1, tzinfo=timezone(timedelta(hours=8)))


@pytest.fixture(scope="module")
def events() -> list[Event]:
    yards = {"xiaonanya": load_station("xiaonanya")}
    return list(generate(yards, days=2, seed=3, start=START))


@pytest.mark.parametrize("name", ["log.jsonl", "log.jsonl.gz", "log.parquet"])
def test_round_trip_gives_the_same_events(events: list[Event], tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    assert write_log(events, path) == len(events)
    assert list(read_log(path)) == events


@pytest.mark.parametrize("name", ["log.jsonl", "log.jsonl.gz", "log.parquet"])
def test_the_same_events_give_the_same_bytes(
    events: list[Event], tmp_path: Path, name: str
) -> None:
    write_log(events, tmp_path / f"a-{name}")
    write_log(events, tmp_path / f"b-{name}")
    assert (tmp_path / f"a-{name}").read_bytes() == (tmp_path / f"b-{name}").read_bytes()


def test_jsonl_lines_are_the_encoded_events(events: list[Event], tmp_path: Path) -> None:
    write_log(events, tmp_path / "log.jsonl")
    lines = (tmp_path / "log.jsonl").read_bytes().splitlines()
    assert lines == [encode_event(event) for event in events]
    compressed = tmp_path / "log.jsonl.gz"
    write_log(events, compressed)
    assert gzip.decompress(compressed.read_bytes()).splitlines() == lines


def test_parquet_columns_describe_each_event(
    events: list[Event], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(eventlog, "ROW_GROUP_EVENTS", 1000)
    path = tmp_path / "log.parquet"
    write_log(events, path)
    table = pq.read_table(path)
    assert table.column_names == ["event_id", "type", "yard", "ts", "event"]
    assert table.schema.field("ts").type == pa.timestamp("us", tz="UTC")
    assert table.column("event_id").to_pylist() == [e.event_id for e in events]
    assert table.column("type").to_pylist() == [event_type(e) for e in events]
    assert table.column("ts").to_pylist() == [e.ts for e in events]
    assert table.column("event").to_pylist() == [encode_event(e) for e in events]
    assert pq.ParquetFile(path).metadata.num_row_groups == -(-len(events) // 1000)


def test_an_empty_log_round_trips(tmp_path: Path) -> None:
    for name in ("empty.jsonl", "empty.parquet"):
        assert write_log([], tmp_path / name) == 0
        assert list(read_log(tmp_path / name)) == []


def test_bad_lines_are_reported_by_number_and_good_lines_kept(
    events: list[Event], tmp_path: Path
) -> None:
    good = [encode_event(event) for event in events[:4]]
    lines = [
        good[0],
        b"not json at all",
        b"",
        good[1] + b"\r",  # a CRLF line is fine
        b'{"type":"truck.gate_in","event_id":"e","ts":"2026-03-01T08:00:00","yard":"yuzui","truck_id":"T"}',
        b"\xff\xfe",
        b"   ",
        good[2],
        b'{"type":"truck.gate_in","event_id":"e","ts":"2026-03-01T08:00:00Z","yard":"lhasa","truck_id":"T"}',
        good[3],  # the last line has no newline
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(lines))
    items = list(read_log(path))
    errors = [item for item in items if isinstance(item, LogError)]
    assert [item for item in items if not isinstance(item, LogError)] == events[:4]
    assert [(e.line, e.error.field) for e in errors] == [(2, ""), (5, "ts"), (6, ""), (9, "yard")]
    assert errors[0].raw == b"not json at all"
    assert str(errors[0]).startswith("line 2: not JSON")
    assert "not UTF-8" in errors[2].error.reason


def test_lines_split_across_read_blocks_are_whole(
    events: list[Event], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(eventlog, "_READ_BLOCK", 97)
    path = tmp_path / "log.jsonl"
    write_log(events[:300], path)
    assert list(read_log(path)) == events[:300]


def test_a_null_parquet_event_is_reported_with_its_row(tmp_path: Path) -> None:
    path = tmp_path / "holes.parquet"
    good = TruckGateIn(event_id="e1", ts=START, yard="yuzui", truck_id="T")
    columns = {
        "event_id": ["e1", "e2", "e3"],
        "type": ["truck.gate_in"] * 3,
        "yard": ["yuzui"] * 3,
        "ts": pa.array([START] * 3, pa.timestamp("us", tz="UTC")),
        "event": pa.array([encode_event(good), None, b"{oops"], pa.binary()),
    }
    pq.write_table(pa.table(columns), path)
    items = list(read_log(path))
    assert items[0] == good
    assert [(item.line, item.error.field) for item in items[1:]] == [(2, "event"), (3, "")]  # type: ignore[union-attr]


def test_unreadable_files_raise_a_named_error(tmp_path: Path) -> None:
    (tmp_path / "text.parquet").write_text("not parquet")
    (tmp_path / "text.jsonl.gz").write_text("not gzip")
    (tmp_path / "dir.jsonl").mkdir()
    for name in ("missing.jsonl", "text.parquet", "text.jsonl.gz", "dir.jsonl"):
        with pytest.raises(LogFileError) as caught:
            read_log(tmp_path / name)
        assert caught.value.path == tmp_path / name
        assert name in str(caught.value)


def test_a_truncated_gzip_log_raises_a_named_error(events: list[Event], tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl.gz"
    write_log(events, path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(LogFileError, match="read failed"):
        list(read_log(path))


def test_unknown_suffixes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.jsonl"):
        log_format(tmp_path / "log.csv")
    with pytest.raises(ValueError, match="unknown log format"):
        write_log([], tmp_path / "log.json")
    with pytest.raises(ValueError, match="unknown log format"):
        read_log(tmp_path / "log.txt")


def test_a_failed_write_leaves_no_file(tmp_path: Path) -> None:
    def exploding() -> Iterator[Event]:
        yield TruckGateIn(event_id="e1", ts=START, yard="yuzui", truck_id="T")
        raise RuntimeError("feed broke")

    for name in ("log.jsonl", "log.parquet"):
        with pytest.raises(RuntimeError):
            write_log(exploding(), tmp_path / name)
    assert os.listdir(tmp_path) == []
    with pytest.raises(LogFileError, match="missing-dir"):
        write_log([], tmp_path / "missing-dir" / "log.jsonl")

"""The seed in a log's header: written by `generate` (and `simulate --log`), used by `replay`.

A replay without `--seed` runs with the seed that generated the log, so it reproduces the
simulation; `--seed` and a scenario's `[run] seed` still win; logs without a header (older
ones, recorded topics, DCSA imports) replay as before, and an older reader of a log with a
header loses no event.
"""

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from corridor import jobs
from corridor.cli import main
from corridor.contract import eventlog
from corridor.contract.events import DecodeError, Event, decode_event

UNTIL = "2026-01-06T00:00:00+08:00"  # the end of the generated day


def generated(tmp_path: Path, name: str, seed: int) -> Path:
    log = tmp_path / name
    assert main(["generate", "--days", "1", "--seed", str(seed), "--quiet", "--out", str(log)]) == 0
    return log


def replayed(log: Path, out: Path, *options: str) -> dict[str, Any]:
    assert main(["replay", str(log), "--quiet", "--out", str(out), *options]) == 0
    report: dict[str, Any] = json.loads((out / "kpis.json").read_text())
    return report


def test_generate_writes_the_seed_as_the_first_line(tmp_path: Path) -> None:
    log = generated(tmp_path, "day.jsonl", 11)

    first, second = log.read_text().splitlines()[:2]
    assert first == '{"corridor_log":{"seed":11}}'
    assert not isinstance(decode_event(second.encode()), DecodeError)
    assert eventlog.read_header(log) == eventlog.LogHeader(seed=11)


def test_a_parquet_log_keeps_the_seed_in_its_metadata(tmp_path: Path) -> None:
    log = generated(tmp_path, "day.parquet", 12)

    assert pq.read_schema(log).metadata == {b"corridor_log": b'{"seed":12}'}
    assert eventlog.read_header(log) == eventlog.LogHeader(seed=12)


@pytest.mark.parametrize("name", ["day.jsonl", "day.jsonl.gz", "day.parquet"])
def test_replay_without_a_seed_takes_the_logs(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = generated(tmp_path, name, 11)

    assert main(["replay", str(log), "--out", str(tmp_path / "out")]) == 0

    report = json.loads((tmp_path / "out" / "kpis.json").read_text())
    assert report["run"]["seed"] == 11
    assert report["run"]["events"]["rejected"].get(jobs.MALFORMED, 0) == 0  # header not counted
    assert "seed 11, from the log's header" in capsys.readouterr().out


def test_replay_without_a_seed_reproduces_the_simulation(tmp_path: Path) -> None:
    log = generated(tmp_path, "day.jsonl", 4)
    simulate = ["simulate", "--days", "1", "--seed", "4", "--quiet", "--out", str(tmp_path / "s")]
    assert main(simulate) == 0

    report = replayed(log, tmp_path / "r", "--until", UNTIL)

    simulated = json.loads((tmp_path / "s" / "kpis.json").read_text())
    assert report["yards"] == simulated["yards"]


def test_seed_and_scenario_seed_win_over_the_header(tmp_path: Path) -> None:
    log = generated(tmp_path, "day.jsonl", 11)
    scenario = tmp_path / "seeded.toml"
    scenario.write_text("[run]\nseed = 9\n")

    assert replayed(log, tmp_path / "a", "--seed", "4")["run"]["seed"] == 4
    assert replayed(log, tmp_path / "b", "--scenario", str(scenario))["run"]["seed"] == 9


def test_a_log_without_a_header_replays_as_before(tmp_path: Path) -> None:
    with_header = generated(tmp_path, "day.jsonl", 11)
    events = [item for item in eventlog.read_log(with_header) if isinstance(item, Event)]
    plain = tmp_path / "plain.jsonl"
    eventlog.write_log(events, plain)

    assert plain.read_text().splitlines()[0] == with_header.read_text().splitlines()[1]
    assert eventlog.read_header(plain) is None
    assert replayed(plain, tmp_path / "out")["run"]["seed"] == jobs.DEFAULT_SEED


def test_an_older_reader_loses_no_event_of_a_log_with_a_header(tmp_path: Path) -> None:
    log = generated(tmp_path, "day.jsonl", 11)
    events = sum(1 for item in eventlog.read_log(log) if not isinstance(item, eventlog.LogError))

    decoded = [decode_event(line) for line in log.read_bytes().splitlines()]

    assert isinstance(decoded[0], DecodeError)  # what a reader from before headers reports
    assert sum(not isinstance(item, DecodeError) for item in decoded) == events

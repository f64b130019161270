"""Reefer readings are records, counted by the window rules of every other KPI.

`corridor replay LOG --until T` counts the readings before T, and nothing after it (it used
to count every reading of the log); the live twin fed the same events counts the same readings
in its snapshot at T, and the same again at the log's last event.
"""

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from corridor.cli import main
from corridor.contract.eventlog import write_log
from corridor.contract.events import Event, ReeferReading, encode_event
from corridor.scenario import DEFAULT_START
from corridor.traffic.generator import generate
from stations.catalog import station_ids
from stations.spec import load_all_stations
from streams.live.reorder import to_micros
from streams.live.snapshots import kpi_snapshots
from streams.live.twin import LiveTwin

SEED = 6
UNTIL = DEFAULT_START + timedelta(hours=13, minutes=7, seconds=30)


@pytest.fixture(scope="module")
def day() -> list[Event]:
    return list(generate(load_all_stations(), days=1, seed=SEED, start=DEFAULT_START))


@pytest.fixture(scope="module")
def log(day: list[Event], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("log") / "day.jsonl"
    write_log(day, path)
    return path


def replayed(log: Path, out: Path, *until: str) -> dict[str, Any]:
    """kpis.json of `corridor replay LOG [--until T]`."""
    argv = ["replay", str(log), "--seed", str(SEED), "--quiet", "--out", str(out), *until]
    assert main(argv) == 0
    report: dict[str, Any] = json.loads((out / "kpis.json").read_text())
    return report


def readings_of(scopes: dict[str, Any]) -> dict[str, int]:
    return {yard: scopes[yard]["reefer"]["readings"] for yard in station_ids()}


def live_readings(events: list[Event], as_of: datetime) -> dict[str, int]:
    """Readings per yard in the live twin's longest-window snapshot at `as_of`."""
    live = LiveTwin(load_all_stations(), SEED)
    for event in events:
        live.admit(event, encode_event(event))
    live.advance(to_micros(as_of))
    snapshots = kpi_snapshots(live, to_micros(as_of), datetime.now(UTC))
    return {s.scope: s.kpis["reefer"]["readings"] for s in snapshots if s.window == "7d"}


def test_replay_until_counts_only_the_readings_before_it(
    day: list[Event], log: Path, tmp_path: Path
) -> None:
    report = replayed(log, tmp_path / "until", "--until", UNTIL.isoformat())
    assert report["run"]["events"]["rejected"] == {"malformed line": 0}  # every reading applied
    before = Counter(e.yard for e in day if isinstance(e, ReeferReading) and e.ts < UNTIL)
    after = Counter(e.yard for e in day if isinstance(e, ReeferReading) and e.ts >= UNTIL)
    assert min(before.values()) > 0
    assert min(after.values()) > 0  # so counting them would show
    assert readings_of(report["yards"]) == {yard: before[yard] for yard in station_ids()}
    assert report["corridor"]["reefer"]["readings"] == sum(before.values())


def test_replay_and_the_live_twin_count_the_same_readings(
    day: list[Event], log: Path, tmp_path: Path
) -> None:
    until = replayed(log, tmp_path / "until", "--until", UNTIL.isoformat())
    live = live_readings(day, UNTIL)
    assert live == {
        **readings_of(until["yards"]),
        "corridor": until["corridor"]["reefer"]["readings"],
    }
    whole = replayed(log, tmp_path / "whole")
    last = max(event.ts for event in day)
    assert live_readings(day, last) == {
        **readings_of(whole["yards"]),
        "corridor": whole["corridor"]["reefer"]["readings"],
    }
    assert whole["corridor"]["reefer"]["readings"] > until["corridor"]["reefer"]["readings"]

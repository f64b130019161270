"""docs/outputs.md lists exactly the columns of every file a run writes; UTC times are right."""

import re
from datetime import UTC
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corridor import jobs
from corridor.cli import main
from corridor.kpis.record_frames import TIME_COLUMNS, write_record_tables
from corridor.scenario import DEFAULT_START, Scenario
from corridor.traffic.generator import generate
from stations.records import RECORD_TYPES
from stations.spec import load_all_stations

DOC = Path(__file__).resolve().parents[1] / "docs" / "outputs.md"
NOT_TIMES = {"plug_wait_min", "peak_deviation_c", "value"}  # floats that are not Minutes


def documented_columns() -> dict[str, list[str]]:
    """File name -> the columns its section's table lists, in order."""
    files: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in DOC.read_text("utf-8").splitlines():
        heading = re.match(r"#{2,3} `([a-z_]+\.parquet)`", line)
        if heading:
            current = files.setdefault(heading.group(1), [])
        elif current is not None and (row := re.match(r"\| `([a-z_0-9]+)` \|", line)):
            current.append(row.group(1))
    return files


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """The columns of every Parquet file simulate and replay write (replicated and not)."""
    root = tmp_path_factory.mktemp("outputs")
    log = root / "day.jsonl"
    assert main(["generate", "--days", "1", "--seed", "2", "--out", str(log), "--quiet"]) == 0
    runs = [
        ["simulate", "--days", "1", "--replications", "2"],
        ["replay", str(log)],
    ]
    columns: dict[str, list[str]] = {}
    for index, argv in enumerate(runs):
        out = root / f"run{index}"
        assert main([*argv, "--quiet", "--out", str(out)]) == 0
        for path in sorted(out.glob("*.parquet")):
            names = pq.read_schema(path).names
            assert columns.setdefault(path.name, names) == names, path.name
    return columns


def test_the_doc_lists_exactly_the_columns_written(written: dict[str, list[str]]) -> None:
    assert documented_columns() == written


def test_every_record_table_is_written(written: dict[str, list[str]]) -> None:
    assert {f"{name}.parquet" for name in RECORD_TYPES} | {"replications.parquet"} == set(written)


def test_every_minutes_column_has_a_utc_twin() -> None:
    for name, record in RECORD_TYPES.items():
        floats = [field for field, kind in record.__annotations__.items() if kind is float]
        assert sorted(floats) == sorted([*TIME_COLUMNS[name], *NOT_TIMES & set(floats)]), name


def test_utc_times_are_the_epoch_plus_the_minutes(tmp_path: Path) -> None:
    scenario = Scenario(load_all_stations())
    events = list(generate(scenario.stations, days=1, seed=2, start=DEFAULT_START))
    result = jobs.replay_events(events, scenario, seed=2)
    assert result.epoch is not None
    write_record_tables(result.frames, result.epoch, tmp_path)
    table = pq.read_table(tmp_path / "box_visits.parquet")
    assert table.schema.field("left_utc").type == pa.timestamp("us", tz="UTC")
    frame = table.to_pandas()
    epoch = pd.Timestamp(result.epoch.astimezone(UTC))
    for column in ("entered", "left"):
        expected = epoch + pd.to_timedelta(frame[column], unit="min")
        gap = (frame[f"{column}_utc"] - expected).abs().dropna()
        assert (gap <= pd.Timedelta(microseconds=1)).all(), column
    still_there = np.isnan(frame["left"].to_numpy())
    assert still_there.any()
    assert frame.loc[still_there, "left_utc"].isna().all()

"""The KPI report: its shape, rounding, bytes, and what bad input gets."""

import json
import math
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest

from corridor.kpis.report import dumps_report, kpi_report
from stations.catalog import station_ids
from tests.kpi_builders import (
    NAN,
    SCENARIO,
    SOURCE,
    STATIONS,
    TJ,
    XNY,
    YZ,
    box,
    excursion,
    frames,
    kpis,
    level,
    lift,
    queue,
    reading,
    report,
    truck,
)

# --- shape, rounding, report --------------------------------------------------------------


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    return None


def busy_day_records() -> list[tuple[Any, ...]]:
    return [
        truck(TJ, 0, 3, 30),
        box(TJ, "export", 0, 600, reefer=True),
        box(XNY, "import", 100, 200),
        lift(TJ, 10, 12),
        *queue(TJ, (0, 1), (10, 0)),
        level(TJ, "gate_busy", 0, 1),
        excursion(TJ, "temperature", 100, 200),
        excursion(YZ, "power_off", 100, 200),
    ]


def busy_day() -> dict[str, pd.DataFrame]:
    return frames(*busy_day_records())


def test_an_empty_window_gives_nulls_not_nan() -> None:
    result = kpis(frames(), 0, 60)
    for scope in (result["yards"][TJ], result["corridor"]):
        assert scope["trucks"] == 0
        assert set(scope["truck_turn_min"].values()) == {None}
        assert scope["dwell_h"]["share_within_24h"] is None
        assert scope["dwell_h"]["by"]["reefer"]["mean"] is None
        assert scope["gate_queue_len"] == {"mean": None, "max": None}
        assert scope["utilisation"]["gate"] is None
        assert scope["throughput"]["teu_per_day"] == 0.0
    assert b"NaN" not in dumps_report(result)


def test_the_shape_is_the_same_with_or_without_data() -> None:
    empty, busy = kpis(frames(), 0, 1440), kpis(busy_day(), 0, 1440)
    assert _shape(empty) == _shape(busy)
    assert _shape(busy["yards"][TJ]) == _shape(busy["corridor"])
    assert list(busy["yards"]) == list(station_ids())


def test_figures_keep_six_significant_digits() -> None:
    data = frames(*queue(TJ, (0, 1), (10, 0)), box(TJ, "export", 0, 100, teu=2))
    result = kpis(data, 0, 30)["yards"][TJ]
    assert result["gate_queue_len"]["mean"] == 0.333333
    assert result["throughput"]["teu_per_day"] == 96.0  # 2 TEU in (the box leaves later) in 30 min
    assert kpis(data, 0, 4320)["yards"][TJ]["throughput"]["teu_per_day"] == 1.33333  # 4 / 3


def test_plain_string_columns_give_the_same_figures() -> None:
    records = busy_day_records()
    assert kpis(frames(*records, plain=True), 0, 1440) == kpis(frames(*records), 0, 1440)


def test_report_json_is_byte_identical_and_valid() -> None:
    first, second = dumps_report(report(busy_day())), dumps_report(report(busy_day()))
    assert first == second
    assert first.endswith(b"}\n")
    assert b"NaN" not in first
    assert b"Infinity" not in first
    parsed = json.loads(first)
    assert first.decode() == json.dumps(parsed, sort_keys=True, indent=2) + "\n"
    assert parsed["yards"][TJ]["trucks"] == 1


def test_report_run_block() -> None:
    run = report(busy_day(), start=60, end=60 + 2880)["run"]
    assert run == {
        "scenario": {"name": "capacities", "digest": "sha256:" + "5" * 64},
        "seed": 7,
        "input": {"kind": "log", "digest": "sha256:" + "1" * 64},
        "period": {
            "start": "2024-03-01T01:00:00+08:00",
            "end": "2024-03-03T01:00:00+08:00",
            "days": 2.0,
        },
        "events": {"applied": {"truck.dispatched": 3}, "rejected": {"duplicate": 1}},
    }


def test_report_is_written_in_utf8_without_escapes() -> None:
    data = report(frames())
    data["run"]["events"] = {"applied": {"团结村": 1}}
    assert "团结村".encode() in dumps_report(data)


def test_dumps_report_names_a_nan() -> None:
    data = report(frames())
    data["corridor"]["throughput"]["teu_per_day"] = math.nan
    with pytest.raises(ValueError, match=r"report\.corridor\.throughput\.teu_per_day"):
        dumps_report(data)


# --- bad input ----------------------------------------------------------------------------


def test_naive_epoch_is_refused() -> None:
    with pytest.raises(ValueError, match="epoch"):
        kpi_report(
            frames(), start=0, end=60, stations=STATIONS, scenario=SCENARIO, seed=1,
            source=SOURCE, epoch=datetime(2024, 3, 1),  # noqa: DTZ001 - the point of the test
            event_counts={},
        )  # fmt: skip
    aware = datetime(2024, 3, 1, tzinfo=UTC)
    assert kpi_report(
        frames(), start=0, end=60, stations=STATIONS, scenario=SCENARIO, seed=1,
        source=SOURCE, epoch=aware, event_counts={},
    )["run"]["period"]["start"] == "2024-03-01T00:00:00+00:00"  # fmt: skip


@pytest.mark.parametrize(("start", "end"), [(10, 10), (10, 5), (0, math.inf), (math.nan, 5)])
def test_a_bad_window_is_refused(start: float, end: float) -> None:
    with pytest.raises(ValueError, match="window"):
        kpis(frames(), start, end)


def test_a_record_of_an_unknown_yard_is_refused() -> None:
    data = frames(truck(TJ, 0, 3, 30), plain=True)
    data["truck_visits"].loc[0, "yard"] = "chengdu"
    with pytest.raises(ValueError, match=r"truck_visits\.yard: 1 rows .*chengdu"):
        kpis(data, 0, 60)


def test_a_missing_column_or_table_is_named() -> None:
    data = frames()
    with pytest.raises(ValueError, match=r"box_visits: missing column\(s\) teu"):
        kpis(dict(data, box_visits=data["box_visits"].drop(columns="teu")), 0, 60)
    with pytest.raises(ValueError, match="lifts"):
        kpis({name: frame for name, frame in data.items() if name != "lifts"}, 0, 60)


def test_unknown_labels_are_refused() -> None:
    with pytest.raises(ValueError, match=r"levels\.level: .*queue_length"):
        kpis(frames() | _relabel_level("queue_length"), 0, 60)
    with pytest.raises(ValueError, match=r"box_visits\.direction: .*transit"):
        kpis(frames(box(TJ, "transit", 0, 10)), 0, 60)
    with pytest.raises(ValueError, match=r"reefer_excursions\.kind: .*humidity"):
        kpis(frames(excursion(TJ, "humidity", 0, 10)), 0, 60)
    data = frames(reading(TJ, 5), plain=True)
    data["reefer_readings"].loc[0, "yard"] = "chengdu"
    with pytest.raises(ValueError, match=r"reefer_readings\.yard: 1 rows .*chengdu"):
        kpis(data, 0, 60)


def _relabel_level(label: str) -> dict[str, pd.DataFrame]:
    levels = frames(level(TJ, "gate_queue", 0, 1))["levels"].astype({"level": "str"})
    levels.loc[0, "level"] = label
    return {"levels": levels}


def test_a_counted_record_without_its_start_time_is_refused() -> None:
    data = frames(truck(TJ, NAN, 3, 30))
    with pytest.raises(ValueError, match=r"truck_visits\.arrived: 1 rows"):
        kpis(data, 0, 60)
    assert kpis(data, 100, 160)["yards"][TJ]["trucks"] == 0  # outside the window: not read


def test_frames_are_not_modified() -> None:
    data = frames(*queue(TJ, (10, 2), (0, 0)))
    data["levels"] = data["levels"].iloc[::-1].reset_index(drop=True)
    before = {name: frame.copy() for name, frame in data.items()}
    kpis(data, 0, 20)
    for name, frame in data.items():
        pd.testing.assert_frame_equal(frame, before[name])


def test_large_tables_are_split_by_yard_consistently() -> None:
    rng = np.random.default_rng(3)
    yards = rng.choice(list(station_ids()), size=3000)
    arrived = rng.uniform(0, 1000, size=3000)
    turn = rng.exponential(30, size=3000)
    data = frames(
        *(truck(y, a, a + 1, a + t) for y, a, t in zip(yards, arrived, turn, strict=True))
    )
    result = kpis(data, 0, 1000)
    departed = arrived + turn
    for yard in station_ids():
        mine = turn[(yards == yard) & (departed < 1000)]
        assert result["yards"][yard]["trucks"] == mine.size
        assert result["yards"][yard]["truck_turn_min"]["p95"] == pytest.approx(
            np.percentile(mine, 95), rel=1e-5
        )
    assert result["corridor"]["trucks"] == int((departed < 1000).sum())

"""KPIs from hand-built record frames whose answers can be worked out on paper."""

import json
import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd
import pytest

from corridor.kpis import compute_kpis, dumps_report, kpi_report
from stations.records import (
    LEVELS,
    NOT_YET,
    RECORD_TYPES,
    BoxVisit,
    LevelChange,
    Lift,
    ReeferExcursion,
    TruckVisit,
)
from stations.spec import STATION_IDS, load_all_stations

TJ, XNY, YZ = STATION_IDS

# Small, round capacities so utilisation can be checked by hand.
CAPACITIES = {
    TJ: {"lanes": 3, "exception_lanes": 1, "rmgs": 1, "reach_stackers": 1, "teu": 100, "plugs": 10},
    XNY: {
        "lanes": 1,
        "exception_lanes": 1,
        "rmgs": 1,
        "reach_stackers": 1,
        "teu": 100,
        "plugs": 10,
    },
    YZ: {"lanes": 1, "exception_lanes": 1, "rmgs": 1, "reach_stackers": 1, "teu": 100, "plugs": 10},
}
STATIONS = load_all_stations(
    {
        yard: {
            "gate": {"lanes": c["lanes"], "exception_lanes": c["exception_lanes"]},
            "handling": {"rmgs": c["rmgs"], "reach_stackers": c["reach_stackers"]},
            "stack": {"capacity_teu": c["teu"], "reefer_plugs": c["plugs"]},
        }
        for yard, c in CAPACITIES.items()
    }
)
LABELS = {"direction", "equipment", "purpose", "kind", "milestone"}  # as corridor.frames makes them
EPOCH = datetime(2024, 3, 1, tzinfo=timezone(timedelta(hours=8)))
NAN = NOT_YET


def frames(*records: tuple[Any, ...], plain: bool = False) -> dict[str, pd.DataFrame]:
    """Record frames shaped like `corridor.frames.record_frames`: every table, the yard and label
    columns categorical (unless `plain`), levels sorted by (yard, level, time)."""
    by_type = {record_type: name for name, record_type in RECORD_TYPES.items()}
    rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in RECORD_TYPES}
    for record in records:
        rows[by_type[type(record)]].append(record)
    result = {}
    for name, record_type in RECORD_TYPES.items():
        fields = list(record_type._fields)  # type: ignore[attr-defined]
        frame = pd.DataFrame.from_records(rows[name], columns=fields)
        for field, kind in record_type.__annotations__.items():
            if kind in (float, int, bool):
                frame[field] = frame[field].astype(kind)
        if plain:
            frame["yard"] = frame["yard"].astype(str)
        else:
            frame["yard"] = pd.Categorical(frame["yard"], categories=STATION_IDS)
            for label in LABELS.intersection(frame.columns):
                frame[label] = frame[label].astype("category")
        if name == "levels":
            frame["level"] = pd.Categorical(frame["level"], categories=LEVELS)
            frame = frame.sort_values(["yard", "level", "time"], kind="stable", ignore_index=True)
        result[name] = frame
    return result


def truck(yard: str, arrived: float, gate_start: float, departed: float) -> TruckVisit:
    return TruckVisit(
        yard, "TRK1", "CSQU3054383", "export", 1, False, arrived - 30.0, arrived, gate_start,
        gate_start + 1.0, False, NAN, NAN, departed,
    )  # fmt: skip


def box(
    yard: str, direction: str, entered: float, left: float, *, teu: int = 1, reefer: bool = False
) -> BoxVisit:
    return BoxVisit(
        yard, "CSQU3054383", direction, teu, reefer, entered, entered, left, "X1", False, 0.0
    )


def lift(yard: str, start: float, end: float) -> Lift:
    return Lift(yard, "rmg", "CSQU3054383", "truck", start, end)


def level(yard: str, name: str, time: float, value: float) -> LevelChange:
    return LevelChange(yard, name, time, value)


def excursion(yard: str, kind: str, start: float, end: float) -> ReeferExcursion:
    return ReeferExcursion(yard, "CSQU3054383", kind, start, end, NAN)


def kpis(
    data: dict[str, pd.DataFrame], start: float, end: float, readings: dict[str, int] | None = None
) -> dict[str, Any]:
    return compute_kpis(
        data, start=start, end=end, stations=STATIONS, reefer_readings=readings or {}
    )


def report(
    data: dict[str, pd.DataFrame], start: float = 0.0, end: float = 1440.0
) -> dict[str, Any]:
    counts = {"applied": {"truck.dispatched": 3}, "rejected": {"duplicate": 1}}
    return kpi_report(
        data, start=start, end=end, stations=STATIONS, reefer_readings={TJ: 4},
        seed=7, epoch=EPOCH, event_counts=counts,
    )  # fmt: skip


def queue(yard: str, *points: tuple[float, float]) -> list[LevelChange]:
    return [level(yard, "gate_queue", time, value) for time, value in points]


# --- levels: time-weighted ----------------------------------------------------------------


def test_gate_queue_is_time_weighted() -> None:
    data = frames(*queue(TJ, (0, 0), (10, 2), (15, 1)))
    result = kpis(data, 0, 20)["yards"][TJ]["gate_queue_len"]
    assert result == {"mean": 0.75, "max": 2.0}


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (12, 20, {"mean": 1.375, "max": 2.0}),  # starts inside the 2-truck step
        (16, 20, {"mean": 1.0, "max": 1.0}),  # the earlier 2 is outside the window
        (25, 30, {"mean": 1.0, "max": 1.0}),  # the last point holds on
        (5, 15, {"mean": 1.0, "max": 2.0}),  # a point at the window's end does not count
    ],
)
def test_gate_queue_is_clipped_to_the_window(
    start: float, end: float, expected: dict[str, float]
) -> None:
    data = frames(*queue(TJ, (0, 0), (10, 2), (15, 1)))
    assert kpis(data, start, end)["yards"][TJ]["gate_queue_len"] == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(4.0, {"mean": 2.0, "max": 4.0}), (-4.0, {"mean": -2.0, "max": 0.0})],  # the rule is general
)
def test_level_is_zero_before_its_first_point(value: float, expected: dict[str, float]) -> None:
    data = frames(*queue(TJ, (10, value)))
    assert kpis(data, 0, 20)["yards"][TJ]["gate_queue_len"] == expected
    assert kpis(data, 0, 5)["yards"][TJ]["gate_queue_len"] == {"mean": 0.0, "max": 0.0}


def test_a_value_held_for_no_time_is_not_the_max() -> None:
    data = frames(*queue(TJ, (0, 1), (5, 9), (5, 2)))
    assert kpis(data, 0, 10)["yards"][TJ]["gate_queue_len"] == {"mean": 1.5, "max": 2.0}


def test_unsorted_levels_give_the_same_figures() -> None:
    data = frames(*queue(TJ, (0, 0), (10, 2), (15, 1)), *queue(XNY, (0, 3), (4, 1)))
    shuffled = dict(data, levels=data["levels"].iloc[[3, 0, 4, 2, 1]].reset_index(drop=True))
    assert kpis(shuffled, 0, 20) == kpis(data, 0, 20)
    assert kpis(shuffled, 0, 20)["yards"][XNY]["gate_queue_len"] == {"mean": 1.4, "max": 3.0}


def test_corridor_queue_is_the_sum_of_the_yards_queues() -> None:
    data = frames(*queue(TJ, (0, 2), (10, 0)), *queue(XNY, (5, 3), (15, 0)))
    # summed: 2 on [0,5), 5 on [5,10), 3 on [10,15), 0 on [15,20)
    assert kpis(data, 0, 20)["corridor"]["gate_queue_len"] == {"mean": 2.5, "max": 5.0}
    # from 7: 5 until 10, 3 until 15, then 0 -> (15 + 15) / 13
    assert kpis(data, 7, 20)["corridor"]["gate_queue_len"] == {"mean": 2.30769, "max": 5.0}
    # before XNY's first point: TJ's 2 alone
    assert kpis(data, 0, 4)["corridor"]["gate_queue_len"] == {"mean": 2.0, "max": 2.0}


def test_corridor_queue_changing_in_two_yards_at_once_has_no_phantom_peak() -> None:
    data = frames(*queue(TJ, (0, 0), (10, 3)), *queue(XNY, (0, 2), (10, 0)))
    # 2 on [0,10), then 3: never 5, although TJ's rise is applied before XNY's fall
    assert kpis(data, 0, 20)["corridor"]["gate_queue_len"] == {"mean": 2.5, "max": 3.0}


def test_corridor_queue_max_is_at_one_moment_not_the_sum_of_maxima() -> None:
    data = frames(*queue(TJ, (0, 2), (5, 0)), *queue(XNY, (0, 0), (10, 3), (15, 0)))
    assert kpis(data, 0, 20)["corridor"]["gate_queue_len"] == {"mean": 1.25, "max": 3.0}


def test_utilisation_per_yard() -> None:
    data = frames(
        level(TJ, "gate_busy", 0, 2),  # 2 of 4 lanes
        level(TJ, "plugs_in_use", 0, 5),
        level(TJ, "plugs_in_use", 10, 0),  # 5 plugs for half the window, of 10
        level(TJ, "stack_teu", 0, 50),  # 50 of 100 TEU
        lift(TJ, -5, 5),  # 5 min inside
        lift(TJ, 10, 30),  # 10 min inside
        lift(TJ, 18, NAN),  # still lifting: 2 min inside
        lift(TJ, 25, 30),  # outside
    )
    result = kpis(data, 0, 20)["yards"][TJ]["utilisation"]
    assert result == {"gate": 0.5, "handling": 17 / 40, "plugs": 0.25, "stack": 0.5}


def test_corridor_utilisation_is_capacity_weighted() -> None:
    data = frames(
        level(TJ, "gate_busy", 0, 2),  # 2 of 4 lanes
        level(XNY, "gate_busy", 0, 2),  # 2 of 2 lanes
        lift(TJ, 0, 20),  # 20 of 2 * 20 machine-minutes
    )
    result = kpis(data, 0, 20)
    assert result["yards"][XNY]["utilisation"]["gate"] == 1.0
    assert result["corridor"]["utilisation"]["gate"] == 0.666667  # 4 / 6, not (0.5 + 1) / 2
    assert result["corridor"]["utilisation"]["handling"] == 0.166667  # 20 / (3 * 2 * 20)


# --- tallies ------------------------------------------------------------------------------


def test_truck_wait_and_turnaround() -> None:
    result = kpis(frames(truck(TJ, 0, 3, 30)), 0, 60)["yards"][TJ]
    assert result["trucks"] == 1
    assert result["gate_wait_min"] == dict.fromkeys(("mean", "p50", "p90", "p95", "p99"), 3.0)
    assert result["truck_turn_min"] == dict.fromkeys(("mean", "p50", "p90", "p95", "p99"), 30.0)


def test_trucks_are_counted_by_their_end_event() -> None:
    data = frames(
        truck(TJ, 0, 3, 30),  # departs after the window: only its gate wait counts
        truck(TJ, -10, 5, 15),  # arrived before the window: counted, with its whole turnaround
        truck(TJ, 20, 25, 40),  # after the window
    )
    result = kpis(data, 0, 20)["yards"][TJ]
    assert result["trucks"] == 1
    assert result["truck_turn_min"]["mean"] == 25.0
    assert result["gate_wait_min"]["mean"] == 9.0  # (3 + 15) / 2


def test_percentiles_are_numpy_linear() -> None:
    data = frames(*(truck(TJ, 0, 1, turn) for turn in (10, 40, 20, 30)))
    result = kpis(data, 0, 60)["yards"][TJ]["truck_turn_min"]
    assert result == {"mean": 25.0, "p50": 25.0, "p90": 37.0, "p95": 38.5, "p99": 39.7}


def test_corridor_percentiles_pool_the_yards_records() -> None:
    turns = {TJ: (10, 20), XNY: (30, 40, 50)}
    data = frames(*(truck(yard, 0, 1, t) for yard, times in turns.items() for t in times))
    result = kpis(data, 0, 60)
    assert result["corridor"]["trucks"] == 5
    assert result["corridor"]["truck_turn_min"]["mean"] == 30.0  # not (15 + 40) / 2
    assert result["corridor"]["truck_turn_min"]["p50"] == 30.0
    assert result["corridor"]["truck_turn_min"]["p90"] == 46.0


def test_dwell_with_target_share_and_split() -> None:
    data = frames(
        box(TJ, "export", 0, 12 * 60),
        box(TJ, "import", 0, 24 * 60),  # exactly on target: within
        box(TJ, "export", 0, 36 * 60, reefer=True),
        box(TJ, "import", 0, 48 * 60, reefer=True),
        box(TJ, "export", 0, 60 * 60),  # leaves after the window
        box(TJ, "import", 0, NAN),  # still in the yard
    )
    dwell = kpis(data, 0, 50 * 60)["yards"][TJ]["dwell_h"]
    assert (dwell["mean"], dwell["p50"], dwell["share_within_24h"]) == (30.0, 30.0, 0.5)
    by = dwell["by"]
    assert (by["export"]["mean"], by["export"]["share_within_24h"]) == (24.0, 0.5)
    assert (by["import"]["mean"], by["import"]["share_within_24h"]) == (36.0, 0.5)
    assert (by["reefer"]["mean"], by["reefer"]["share_within_24h"]) == (42.0, 0.0)


def test_throughput() -> None:
    data = frames(
        box(TJ, "export", 10, NAN, teu=2),  # in
        box(TJ, "import", -100, 100),  # out
        box(TJ, "export", 2000, 3000, teu=2),  # in (leaves after the window)
        box(XNY, "import", 5, 50, teu=2),  # in and out, at the other yard
        lift(TJ, 0, 5),
        lift(TJ, 2800, 2879),
        lift(TJ, 2870, 2880),  # ends at the window's end: not in it
    )
    result = kpis(data, 0, 2880)  # two days
    assert result["yards"][TJ]["throughput"] == {
        "teu_in": 4,
        "teu_out": 1,
        "lifts": 2,
        "teu_per_day": 2.5,
    }
    assert result["corridor"]["throughput"] == {
        "teu_in": 6,
        "teu_out": 3,
        "lifts": 2,
        "teu_per_day": 4.5,
    }


def test_reefer_excursions_and_power() -> None:
    data = frames(
        excursion(TJ, "temperature", 50, 150),  # began before: 50 min inside, not counted
        excursion(TJ, "temperature", 120, 130),  # 10 min
        excursion(TJ, "temperature", 190, NAN),  # still open: runs to the window's end, 10 min
        excursion(TJ, "temperature", 250, 260),  # after the window
        excursion(TJ, "power_off", 0, 160),  # clipped to 60 min
        excursion(TJ, "power_off", 170, 180),
        excursion(XNY, "power_off", 110, 190),  # 80 min
    )
    result = kpis(data, 100, 200, readings={TJ: 7, XNY: 5})
    assert result["yards"][TJ]["reefer"] == {
        "readings": 7,
        "excursions": 2,
        "excursion_minutes": 70.0,
        "max_off_power_min": 60.0,
    }
    assert result["yards"][YZ]["reefer"]["max_off_power_min"] == 0.0
    assert result["corridor"]["reefer"] == {
        "readings": 12,
        "excursions": 2,
        "excursion_minutes": 70.0,
        "max_off_power_min": 80.0,
    }


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
    assert list(busy["yards"]) == list(STATION_IDS)


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
        "seed": 7,
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
            frames(), start=0, end=60, stations=STATIONS, reefer_readings={}, seed=1,
            epoch=datetime(2024, 3, 1), event_counts={},  # noqa: DTZ001 - the point of the test
        )  # fmt: skip
    aware = datetime(2024, 3, 1, tzinfo=UTC)
    assert kpi_report(
        frames(), start=0, end=60, stations=STATIONS, reefer_readings={}, seed=1,
        epoch=aware, event_counts={},
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
    with pytest.raises(ValueError, match=r"reefer_readings: unknown yard\(s\) chengdu"):
        kpis(frames(), 0, 60, readings={"chengdu": 1})


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
    yards = rng.choice(list(STATION_IDS), size=3000)
    arrived = rng.uniform(0, 1000, size=3000)
    turn = rng.exponential(30, size=3000)
    data = frames(
        *(truck(y, a, a + 1, a + t) for y, a, t in zip(yards, arrived, turn, strict=True))
    )
    result = kpis(data, 0, 1000)
    departed = arrived + turn
    for yard in STATION_IDS:
        mine = turn[(yards == yard) & (departed < 1000)]
        assert result["yards"][yard]["trucks"] == mine.size
        assert result["yards"][yard]["truck_turn_min"]["p95"] == pytest.approx(
            np.percentile(mine, 95), rel=1e-5
        )
    assert result["corridor"]["trucks"] == int((departed < 1000).sum())

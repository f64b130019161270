"""KPIs from hand-built record frames whose answers can be worked out on paper."""

import pytest

from tests.kpi_builders import (
    NAN,
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
    truck,
)

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
        level(TJ, "gate_busy", 0, 2),  # 2 of 3 smart lanes
        level(TJ, "exception_busy", 0, 1),
        level(TJ, "exception_busy", 5, 0),  # the one manual lane for a quarter of the window
        level(TJ, "plugs_in_use", 0, 5),
        level(TJ, "plugs_in_use", 10, 0),  # 5 plugs for half the window, of 10
        level(TJ, "stack_teu", 0, 50),  # 50 of 100 TEU
        lift(TJ, -5, 5),  # 5 min inside
        lift(TJ, 10, 30),  # 10 min inside
        lift(TJ, 18, NAN),  # still lifting: 2 min inside
        lift(TJ, 25, 30),  # outside
    )
    result = kpis(data, 0, 20)["yards"][TJ]["utilisation"]
    assert result == {
        "gate": 0.666667,  # the exception lane is not in the smart lanes' denominator
        "exception_lane": 0.25,
        "handling": 17 / 40,
        "plugs": 0.25,
        "stack": 0.5,
    }


def test_corridor_utilisation_is_capacity_weighted() -> None:
    data = frames(
        level(TJ, "gate_busy", 0, 1),  # 1 of 3 lanes
        level(XNY, "gate_busy", 0, 1),  # 1 of 1 lane
        lift(TJ, 0, 20),  # 20 of 2 * 20 machine-minutes
    )
    result = kpis(data, 0, 20)
    assert result["yards"][XNY]["utilisation"]["gate"] == 1.0
    assert result["corridor"]["utilisation"]["gate"] == 0.5  # 2 / 4, not (1/3 + 1) / 2
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
    assert (dwell["mean"], dwell["p50"], dwell["share_within_24h_departed"]) == (30.0, 30.0, 0.5)
    # every arrival: 12 h and 24 h within, then 36 h and 48 h; 2 boxes censored at 50 h
    assert dwell["share_within_24h"] == 0.333333  # 1 - (1 - 1/6)(1 - 1/5)
    by = dwell["by"]
    assert (by["export"]["mean"], by["export"]["share_within_24h_departed"]) == (24.0, 0.5)
    assert (by["import"]["mean"], by["import"]["share_within_24h_departed"]) == (36.0, 0.5)
    assert (by["reefer"]["mean"], by["reefer"]["share_within_24h_departed"]) == (42.0, 0.0)


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
        *(reading(TJ, time) for time in (99.9, 100, 150, 160, 170, 180, 190, 199.9, 200)),
        *(reading(XNY, time) for time in (0, 100, 120, 140, 160, 180, 210)),
    )  # readings: those at or after the start and before the end, 7 at TJ and 5 at XNY
    result = kpis(data, 100, 200)
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

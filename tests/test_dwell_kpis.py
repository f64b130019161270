"""Dwell that counts every box (in the yard, Kaplan-Meier share) and where the hours go (stages,
excess shares, bottleneck), on hand-made box visits whose figures can be checked by hand."""

import numpy as np
import pytest

from corridor.kpis.survival import share_within
from stations.records import BoxVisit
from tests.kpi_builders import NAN, TJ, XNY, box, frames, kpis

H = 60.0  # minutes per hour: the builders take Minutes


def hours(*values: float) -> tuple[float, ...]:
    return tuple(value * H for value in values)


def worked_example() -> list[BoxVisit]:
    """The example of docs/kpis.md ("Dwell that counts every box"), window [0 h, 72 h)."""
    return [
        box(TJ, "import", *hours(0, 10)),  # A
        box(TJ, "import", *hours(0, 20)),  # B
        box(TJ, "import", 60 * H, NAN),  # C: still in the yard
        box(TJ, "import", 50 * H, NAN),  # D: still in the yard
        box(TJ, "import", *hours(0, 30)),  # E
        box(TJ, "import", *hours(40, 80)),  # F: leaves after the window
        box(TJ, "import", *hours(-10, 5)),  # G: entered before the window
    ]


def test_boxes_that_never_leave_count_in_the_yard_and_against_the_target() -> None:
    stuck = [box(TJ, "import", -100 * H + index * H, NAN) for index in range(3)]  # 100, 99, 98 h
    data = frames(*stuck, box(TJ, "export", *hours(1, 5)), box(XNY, "import", 47 * H, NAN))
    result = kpis(data, 0, 48 * H)
    dwell = result["yards"][TJ]["dwell_h"]
    assert dwell["in_yard"] == {
        "boxes": 3,
        "over_24h": 3,
        "age_h": {"p50": 147.0, "p90": 147.8, "max": 148.0},  # 100 h before + the 48 h window
    }
    assert dwell["by"]["import"]["in_yard"]["over_24h"] == 3
    assert dwell["by"]["export"]["in_yard"]["boxes"] == 0
    assert dwell["by"]["export"]["in_yard"]["age_h"] == {"p50": None, "p90": None, "max": None}
    assert dwell["share_within_24h_departed"] == 1.0  # the one box that left did so in 4 h
    assert result["corridor"]["dwell_h"]["in_yard"]["boxes"] == 4  # with xiaonanya's young one
    assert result["corridor"]["dwell_h"]["in_yard"]["over_24h"] == 3
    # their hours over the target are all waiting for pickup: the bottleneck
    assert dwell["bottleneck"] == {"stage": "waiting_for_pickup", "share": 1.0}


def test_the_kaplan_meier_share_matches_the_hand_computed_case() -> None:
    dwell = kpis(frames(*worked_example()), 0, 72 * H)["yards"][TJ]["dwell_h"]
    assert dwell["share_within_24h"] == 0.375  # 1 - (5/6)(3/4)
    assert dwell["share_within_24h_departed"] == 0.75  # A, B, G within; E not
    assert dwell["in_yard"] == {
        "boxes": 3,
        "over_24h": 1,
        "age_h": {"p50": 22.0, "p90": 30.0, "max": 32.0},
    }
    assert dwell["mean"] == 18.75  # departed: A, B, E, G


def test_a_window_shorter_than_a_day_gives_no_kaplan_meier_share() -> None:
    dwell = kpis(frames(*worked_example()), 0, 12 * H)["yards"][TJ]["dwell_h"]
    assert dwell["share_within_24h"] is None
    assert dwell["share_within_24h_departed"] == 1.0  # A and G left in it, both within


@pytest.mark.parametrize(
    ("durations", "finished", "expected"),
    [
        ((10, 20, 30, 40), (True,) * 4, 0.5),  # nothing censored: the plain share
        ((10, 10, 30, 30), (True, False, True, True), 0.25),  # an end before a tied censoring
        ((5, 12, 12, 30), (False, True, True, True), 2 / 3),  # a tie of ends: 1 - 2/3... = 2/3
        ((5, 6), (False, False), 0.0),  # nobody left
        ((20, 24, 24.5), (True, True, True), 2 / 3),  # exactly 24 h is within
    ],
)
def test_the_estimator_on_small_cases(
    durations: tuple[float, ...], finished: tuple[bool, ...], expected: float
) -> None:
    share = share_within(np.array(durations, dtype=float), np.array(finished), 24.0)
    assert share == pytest.approx(expected, abs=1e-12)


def test_without_censoring_the_estimate_is_the_plain_share() -> None:
    rng = np.random.default_rng(4)
    durations = np.round(rng.lognormal(np.log(20), 0.8, 5000), 1)  # many ties
    plain = np.count_nonzero(durations <= 24.0) / durations.size
    assert share_within(durations, np.ones(durations.size, dtype=bool), 24.0) == pytest.approx(
        plain, abs=1e-12
    )
    assert np.isnan(share_within(np.array([]), np.array([], dtype=bool), 24.0))


def export_box(
    entered: float,
    stacked: float,
    inspection: tuple[float, float] | None,
    loading: float,
    left: float,
) -> BoxVisit:
    return box(
        TJ, "export", entered * H, left * H if np.isfinite(left) else NAN, stacked=stacked * H,
        inspection=None if inspection is None else (inspection[0] * H, inspection[1] * H),
        loading_start=loading * H if np.isfinite(loading) else NAN,
    )  # fmt: skip


def test_stages_are_the_mean_hours_between_milestones() -> None:
    data = frames(
        export_box(0, 1, (3, 5), 10, 12),  # 1 + 2 + 2 + 5 + 2 = 12 h
        export_box(0, 2, None, 20, 36),  # 2 + 0 + 0 + 18 + 16 = 36 h
        box(TJ, "import", *hours(0, 30), stacked=4 * H),  # 4 + 26
    )
    dwell = kpis(data, 0, 48 * H)["yards"][TJ]["dwell_h"]
    assert dwell["stages"] == {
        "export": {
            "gate_to_stack": 1.5,
            "waiting_for_inspection": 1.0,
            "inspection": 1.0,
            "waiting_for_train": 11.5,
            "loading": 9.0,
        },
        "import": {"waiting_for_unloading": 4.0, "waiting_for_pickup": 26.0},
    }
    assert sum(dwell["stages"]["export"].values()) == dwell["by"]["export"]["mean"] == 24.0
    assert sum(dwell["stages"]["import"].values()) == dwell["by"]["import"]["mean"] == 30.0
    # over 24 h: the 36 h export (12 h excess: 2/36 gate, 18/36 train, 16/36 loading) and the
    # 30 h import (6 h excess: 4/30 unloading, 26/30 pickup), 18 excess hours in all
    shares = dwell["excess_share"]
    assert shares["export"]["waiting_for_train"] == pytest.approx(12 * 18 / 36 / 18, abs=1e-6)
    assert shares["export"]["loading"] == pytest.approx(12 * 16 / 36 / 18, abs=1e-6)
    assert shares["import"]["waiting_for_pickup"] == pytest.approx(6 * 26 / 30 / 18, abs=1e-6)
    assert shares["export"]["inspection"] == 0.0  # the inspected box is under 24 h
    everything = [*shares["export"].values(), *shares["import"].values()]
    assert sum(everything) == pytest.approx(1.0, abs=1e-5)
    assert dwell["bottleneck"] == {"stage": "waiting_for_train", "share": 0.333333}


def test_a_box_in_the_yard_adds_its_current_stage_to_the_excess_hours() -> None:
    # held by customs since 2 h after entering, 40 h before the window's end: inspection is
    # where its 16 excess hours go, in proportion (38/40 of them), gate to stack the rest
    data = frames(export_box(0, 2, (2, NAN), NAN, NAN))
    dwell = kpis(data, 0, 40 * H)["yards"][TJ]["dwell_h"]
    assert dwell["stages"]["export"]["inspection"] is None  # no export box left
    assert dwell["excess_share"]["export"]["inspection"] == 0.95
    assert dwell["excess_share"]["export"]["gate_to_stack"] == 0.05
    assert dwell["excess_share"]["export"]["waiting_for_train"] == 0.0
    assert dwell["bottleneck"] == {"stage": "inspection", "share": 0.95}


def test_no_box_over_the_target_names_no_bottleneck() -> None:
    dwell = kpis(frames(export_box(0, 1, None, 3, 4)), 0, 48 * H)["yards"][TJ]["dwell_h"]
    assert dwell["bottleneck"] == {"stage": None, "share": None}
    assert set(dwell["excess_share"]["import"].values()) == {None}


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (export_box(0, 1, None, NAN, 5), r"box_visits\.loading_start: 1 export rows .* no"),
        (
            export_box(0, 1, (3, 2), 4, 5),
            r"box_visits\.cleared: 1 export rows .* before inspection",
        ),
        (box(TJ, "import", 0, 5 * H, stacked=NAN), r"box_visits\.stacked: 1 import rows"),
    ],
)
def test_a_box_that_left_without_its_milestones_is_refused(record: BoxVisit, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        kpis(frames(record), 0, 48 * H)

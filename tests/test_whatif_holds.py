"""Holding an announced train in a what-if: boxes that missed its cut-off make it, it leaves
late against its timetable, and the comparison and the report show both.

The yard (鱼嘴) has one departure, HOLD-1, cut-off 10:00 and departure 13:00; twelve export
boxes booked on it arrive from 09:30 to 10:25, so several clear after the cut-off and roll
over to LATER-1. The what-if starts at 09:30 and holds HOLD-1 90 minutes.
"""

from collections.abc import Callable

import msgspec
import pytest

from corridor.contract.events import Event
from corridor.engine import snapshots
from corridor.engine.clock import to_minutes
from corridor.engine.twin import Twin, replay
from corridor.forecast.holds import NEXT, TrainHold, parse_holds
from corridor.forecast.start_state import SnapshotStart, replay_start, snapshot_start
from corridor.forecast.whatif import what_if
from stations.holding import HoldError, hold_departure
from stations.spec import load_all_stations
from tests.factories import at, dispatch, schedule

SEED = 5
BOXES = 12
NOW = at(90)  # 09:30 local


def timeline() -> list[Event]:
    events: list[Event] = [
        schedule("HOLD-1", ts=0, cutoff=120, departure=300),
        schedule("LATER-1", ts=0, cutoff=900, departure=1100),
    ]
    for n in range(BOXES):
        box = dispatch(n, ts=10 + n, eta=90 + 5 * n)  # 09:30 ... 10:25
        events.append(msgspec.structs.replace(box, train_id="HOLD-1"))
    return events


@pytest.fixture(scope="module")
def start() -> SnapshotStart:
    return snapshot_start(replay_start(timeline(), load_all_stations(), SEED, NOW))


def figures(result_frame: object, scope: str) -> Callable[[str], tuple[float, float]]:
    frame = result_frame.set_index(["scope", "kpi"])  # type: ignore[attr-defined]

    def base_and_difference(kpi: str) -> tuple[float, float]:
        row = frame.loc[(scope, kpi)]
        return float(row["base"]), float(row["difference"])

    return base_and_difference


def test_holding_a_train_lets_the_late_boxes_on_and_makes_it_late(start: SnapshotStart) -> None:
    holds = [TrainHold("yuzui", "HOLD-1", 90)]
    result = what_if(start, load_all_stations(), seed=SEED, hours=8, replications=3, holds=holds)
    of = figures(result.comparison.frame, "yuzui")
    base_left, left_change = of("held.HOLD-1.left_behind")
    base_loaded, loaded_change = of("held.HOLD-1.boxes_loaded")
    assert base_left >= 3  # without the hold, boxes miss the cut-off ...
    assert left_change <= -3  # ... and with it, they make the train
    assert loaded_change == -left_change
    assert base_loaded + loaded_change <= BOXES
    assert of("held.HOLD-1.departure_delay_min") == (0.0, 90.0)
    assert of("trains_late") == (0.0, 1.0)  # late against its timetable
    scenario = result.held["scenario"][0]
    assert scenario[0].train_id == "HOLD-1"
    assert scenario[0].scheduled_departure == at(300)
    assert scenario[0].held_departure == at(390)
    assert scenario[0].departed == at(390)


def test_no_hold_changes_nothing_and_next_means_the_next_open_departure(
    start: SnapshotStart,
) -> None:
    same = what_if(start, load_all_stations(), seed=SEED, hours=4, replications=2,
                   holds=[TrainHold("yuzui", NEXT, 30)])  # fmt: skip
    held = [row for row in same.comparison.frame.itertuples() if "held." in row.kpi]
    assert {row.kpi.split(".")[1] for row in held} == {"HOLD-1"}  # "next" resolved
    unchanged = what_if(start, load_all_stations(), seed=SEED, hours=4, replications=2)
    differences = unchanged.comparison.frame["difference"].dropna()
    assert len(differences) > 10
    assert (differences == 0.0).all()


def test_a_train_not_announced_is_refused_naming_it(start: SnapshotStart) -> None:
    with pytest.raises(HoldError, match="NO-SUCH-TRAIN"):
        what_if(start, load_all_stations(), seed=SEED, hours=1, replications=2,
                holds=[TrainHold("yuzui", "NO-SUCH-TRAIN", 30)])  # fmt: skip


@pytest.mark.parametrize(
    ("entries", "words"),
    [
        ([{"yard": "yuzui", "train": "T", "minutes": 0}], "hold[0].minutes"),
        ([{"yard": "yuzui", "train": "T", "minutes": -30}], "hold[0].minutes"),
        ([{"yard": "yuzui", "train": "T", "minutes": 1441}], "hold[0].minutes"),
        ([{"yard": "yuzui", "train": "T", "minutes": 30.5}], "hold[0].minutes"),
        ([{"yard": "yuzui", "train": "T", "minutes": True}], "hold[0].minutes"),
        ([{"yard": "atlantis", "train": "T", "minutes": 30}], "unknown yard 'atlantis'"),
        ([{"yard": "yuzui", "train": "T", "minutes": 30, "why": 1}], "why"),
        ([{"yard": "yuzui", "minutes": 30}], "train"),
        ([{"yard": "yuzui", "train": "", "minutes": 30}], "hold[0].train"),
        ([{"yard": "yuzui", "train": "T", "minutes": 5}] * 2, "held twice"),
        ([{"yard": "yuzui", "train": f"T{n}", "minutes": 5} for n in range(17)], "at most 16"),
        ({"yard": "yuzui"}, "expected a list"),
    ],
)
def test_a_bad_hold_is_refused_naming_the_field(entries: object, words: str) -> None:
    with pytest.raises(ValueError, match=None) as refused:
        parse_holds(entries, load_all_stations())
    assert words in str(refused.value)


def test_a_held_train_survives_a_snapshot_taken_between_its_old_and_new_cut_off() -> None:
    """Snapshotted at 10:30 (old cut-off 10:00, held to 11:30) and restored, the yard gives the
    records of one never stopped: the restored train waits again for its moved cut-off."""
    stations = load_all_stations()

    def held_twin() -> Twin:
        twin = replay(timeline(), stations, SEED, until=NOW)
        twin.advance_to(NOW)
        hold_departure(twin.yards["yuzui"], "HOLD-1", 90.0)
        return twin

    never_stopped = held_twin()
    never_stopped.advance_to(at(600))
    stopped = held_twin()
    stopped.advance_to(at(150))
    restored = Twin.restore(snapshots.decode(snapshots.encode(stopped.snapshot())), stations)
    restored.advance_to(at(600))
    visits = [
        (twin.yards["yuzui"].records.train_visits, twin.yards["yuzui"].records.box_visits)
        for twin in (never_stopped, restored)
    ]
    assert visits[0] == visits[1]
    [departure] = [v for v in visits[0][0] if v.train_id == "HOLD-1"]
    assert departure.scheduled == pytest.approx(
        to_minutes(at(390), never_stopped.epoch)  # type: ignore[arg-type]
    )
    assert departure.boxes == BOXES

"""An export box booked on a departure waits for that train, announced or not; a box that
misses its train's cut-off rolls over to a later one, never an earlier one."""

import msgspec

from corridor.contract.events import TruckDispatched
from corridor.engine.twin import replay
from stations.spec import load_all_stations
from tests.factories import at, box_number, dispatch, schedule
from tests.test_model_timeline import CONSTANT_YUZUI


def booked(n: int, train: str, *, eta: float) -> TruckDispatched:
    return msgspec.structs.replace(dispatch(n, ts=0, eta=eta), train_id=train)


def test_booked_boxes_wait_for_their_train_and_late_ones_roll_over() -> None:
    events = [
        schedule("T1", ts=0, cutoff=240, departure=300),
        booked(1, "T2", eta=0),  # T2 is not announced yet
        dispatch(2, ts=0, eta=0),  # no booking: the first train with room
        booked(3, "T1", eta=250),  # reaches the gate after T1's cut-off
        schedule("T2", ts=400, cutoff=600, departure=700),
    ]
    twin = replay(events, load_all_stations(CONSTANT_YUZUI), seed=7, until=at(900))
    left = {box.container_id: (box.train_id, box.left) for box in twin.tables()["box_visits"]}
    assert left == {
        box_number(1): ("T2", 700),
        box_number(2): ("T1", 300),
        box_number(3): ("T2", 700),
    }


def test_a_box_whose_train_is_full_never_takes_an_earlier_one_announced_later() -> None:
    events = [
        schedule("T1", ts=0, cutoff=240, departure=300, teu=1),
        dispatch(1, ts=0, eta=0),  # no booking: takes T1's only TEU
        booked(2, "T1", eta=5),  # booked on T1, which is full by then
        schedule("T0", ts=120, cutoff=240, departure=280),  # announced later, leaves earlier
        schedule("T2", ts=130, cutoff=600, departure=700),
    ]
    twin = replay(events, load_all_stations(CONSTANT_YUZUI), seed=7, until=at(900))
    left = {box.container_id: (box.train_id, box.left) for box in twin.tables()["box_visits"]}
    assert left == {box_number(1): ("T1", 300), box_number(2): ("T2", 700)}

"""Events of one yard at one instant apply trains first, then trucks, then readings,
whatever their order in the log: the live worker orders them so, and a replay must agree."""

from corridor.engine.twin import replay
from stations.spec import load_all_stations
from tests.factories import arrival, at, box_number, dispatch, reading

IMPORT_BOX = box_number(77, owner="MSKU")


def test_a_train_at_the_same_instant_comes_before_the_truck_and_the_reading() -> None:
    same_instant = [
        reading(IMPORT_BOX, ts=10, setpoint=-18, supply=-18),
        dispatch(1, ts=10, eta=10, direction="import", container=IMPORT_BOX, iso_type="45R1"),
        arrival("I1", ts=10, containers=[IMPORT_BOX], iso_type="45R1"),
    ]
    forwards = replay(same_instant, load_all_stations(), seed=1, until=at(600))
    backwards = replay(list(reversed(same_instant)), load_all_stations(), seed=1, until=at(600))
    for twin in (forwards, backwards):
        # the reading found its box: the train had brought it at that same instant
        assert dict(twin.counts.rejected) == {}
        assert twin.counts.applied["reefer.reading"] == 1
    assert forwards.tables() == backwards.tables()

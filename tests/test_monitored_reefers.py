"""`Yard.monitored`, the index of the reefers the alerts scan, against a scan of every box.

The reefer alerts read `reefer_breaches` at every grid boundary; it walks the index instead
of every box in the yard. The index must hold exactly the boxes in the yard that have a
monitor: after days of generated traffic (boxes arriving, read, leaving), after a snapshot is
restored, and when an arrival replaces a box under its number.
"""

import itertools

import pytest

from corridor.engine.live_view import ReeferBreach, reefer_breaches
from corridor.engine.twin import Twin, replay
from corridor.scenario import DEFAULT_START, load_scenario
from corridor.traffic.generator import generate
from stations.box import Box
from stations.yard import Yard
from tests.reefer_oracle import scan_every_reefer

SEED = 7


def monitored_by_scan(yard: Yard) -> dict[str, Box]:
    return {cid: box for cid, box in yard.boxes.items() if box.reefer_monitor is not None}


def present(yard: Yard) -> dict[str, Box]:
    """The index less entries whose box is no longer the yard's under that number."""
    return {cid: box for cid, box in yard.monitored.items() if yard.boxes.get(cid) is box}


@pytest.fixture(scope="module")
def twin() -> Twin:
    stations = load_scenario(None).stations
    events = list(
        itertools.islice(generate(stations, days=6, seed=SEED, start=DEFAULT_START), 30_000)
    )
    return replay(events, stations, SEED)


def test_the_index_holds_exactly_the_monitored_boxes_in_the_yard(twin: Twin) -> None:
    assert twin.epoch is not None
    for yard in twin.yards.values():
        expected = monitored_by_scan(yard)
        assert expected, f"{yard.spec.id}: no reefer was read: the test proves nothing"
        assert yard.monitored == expected  # boxes that left were dropped from it
        assert reefer_breaches(yard, twin.epoch) == _breaches_by_scan(yard, twin)


def test_a_restored_twin_rebuilds_the_index(twin: Twin) -> None:
    restored = Twin.restore(twin.snapshot(), twin.stations)
    for sid, yard in restored.yards.items():
        assert set(yard.monitored) == set(twin.yards[sid].monitored)
        assert yard.monitored == monitored_by_scan(yard)


def test_a_box_replaced_under_its_number_is_not_scanned(twin: Twin) -> None:
    restored = Twin.restore(twin.snapshot(), twin.stations)
    yard = next(yard for yard in restored.yards.values() if yard.monitored)
    number = next(iter(yard.monitored))
    yard.boxes[number] = Box(number, "import", 2, True, entered=yard.now)  # as an arrival does
    assert number not in present(yard)
    assert restored.epoch is not None
    assert all(b.container_id != number for b in reefer_breaches(yard, restored.epoch))


def _breaches_by_scan(yard: Yard, twin: Twin) -> list[ReeferBreach]:
    """`reefer_breaches` as it was before the index: over every box of the yard."""
    saved = yard.monitored
    yard.monitored = dict(yard.boxes)  # every box: the ones without a monitor are skipped
    try:
        assert twin.epoch is not None
        return scan_every_reefer(yard, twin.epoch)
    finally:
        yard.monitored = saved

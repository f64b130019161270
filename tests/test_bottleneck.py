"""The bottleneck of a window: waits and utilisation per resource from hand-made records whose
answer is worked out below, and a generated run in which one reach stacker must be named.

Hand case at Yuzui, window [0, 600) min, capacities of `tests.kpi_builders.STATIONS` (one smart
lane, one manual lane, one RMG, one reach stacker, ten plugs) and Yuzui's 2 bays and 4 tracks:
- gate: trucks wait 0 and 1 min, each 1 min at the lane: mean 0.5 min, busy 2/600;
- reach stacker: the trucks' lifts [10, 70) and [71, 131): busy 120/600 = 0.2; the trucks
  reach it 1 + 9 and 2 + 9 min after the gate (9 min: the mean of Yuzui's triangular 4-8-15
  min drive) and lift at 10 and 71: waits 0 and 60, mean 30 min, 1 h in all;
- RMG: a lift [0, 540): 0.9, no waits recorded;
- customs: a box stacked at 100 enters a bay at 400 and leaves it at 600: wait 300 min (5 h),
  busy 200 / (2 × 600) = 0.1667;
- plugs: one reefer stacked at 50 and plugged at once, still in the yard: 550 / (10 × 600) = 0.0917;
- tracks: a train due at 0 works [30, 150): wait 30 min, 120 / (4 × 600) = 0.05.
Waiting hours 0.0167 + 1 + 5 + 0.5 = 6.5167. The RMG is saturated (0.9) and busiest: named.
Without the long RMG lift, the busiest resource that made anyone wait is the reach stacker.
"""

import pytest

from corridor.engine.twin import replay
from corridor.kpis.bottleneck import ResourceLoad, bottlenecks
from corridor.kpis.frames import Window
from corridor.kpis.record_frames import record_frames
from corridor.scenario import DEFAULT_START, parse_scenario
from corridor.traffic.generator import generate
from stations.records import NOT_YET, BoxVisit, Lift, TrainVisit, TruckVisit
from tests.kpi_builders import STATIONS, YZ, frames

WINDOW = Window(0.0, 600.0)


def truck(arrived: float, gate_start: float, lift_start: float) -> TruckVisit:
    """An export truck 1 min at the lane, 60 min under the reach stacker."""
    return TruckVisit(
        YZ, "TRK", "CSQU3054383", "export", 1, False, arrived - 30.0, arrived, gate_start,
        gate_start + 1.0, False, lift_start, lift_start + 60.0, lift_start + 80.0,
    )  # fmt: skip


def records(rmg_until: float) -> list[tuple[object, ...]]:
    return [
        truck(0.0, 0.0, 10.0),
        truck(0.0, 1.0, 71.0),
        Lift(YZ, "rmg", "CSQU3054383", "train_load", 0.0, rmg_until),
        BoxVisit(
            YZ,
            "CSQU3054383",
            "export",
            1,
            False,
            90.0,
            100.0,
            NOT_YET,
            "",
            True,
            0.0,
            400.0,
            600.0,
            NOT_YET,
        ),
        BoxVisit(YZ, "CSQU3054384", "import", 1, True, 40.0, 50.0, NOT_YET, "T1", False, 0.0),
        TrainVisit(YZ, "T1", "import", 0.0, 30.0, 150.0, NOT_YET, 1, 1),
    ]


def yuzui(rmg_until: float) -> dict[str, object]:
    [found] = [
        b for b in bottlenecks(frames(*records(rmg_until)), STATIONS, WINDOW) if b.yard == YZ
    ]
    return {load.resource: load for load in found.resources} | {"named": found.bottleneck}


def test_waits_and_utilisation_per_resource_by_hand() -> None:
    assert STATIONS[YZ].inspection.bays == 2
    assert STATIONS[YZ].rail.loading_tracks == 4
    got = yuzui(540.0)
    expected = {  # (capacity, utilisation, waits, mean wait min, waiting hours, share)
        "gate": (1, 0.0033, 2, 0.5, 0.017, 0.0026),
        "exception_lane": (1, 0.0, 0, None, 0.0, 0.0),
        "reach_stackers": (1, 0.2, 2, 30.0, 1.0, 0.1535),
        "rmgs": (1, 0.9, 0, None, 0.0, 0.0),
        "inspection_bays": (2, 0.1667, 1, 300.0, 5.0, 0.7673),
        "plugs": (10, 0.0917, 1, 0.0, 0.0, 0.0),
        "tracks": (4, 0.05, 1, 30.0, 0.5, 0.0767),
    }
    for resource, (capacity, used, waits, mean, hours, share) in expected.items():
        load = got[resource]
        assert load.capacity == capacity, resource
        assert load.utilisation == pytest.approx(used, abs=1e-4), resource
        assert load.waits == waits, resource
        assert load.wait_mean_min == mean, resource
        assert load.wait_h == pytest.approx(hours, abs=1e-3), resource
        assert load.wait_share == pytest.approx(share, abs=1e-4), resource
    assert got["named"] == "rmgs"


def test_a_busy_resource_nobody_waits_for_is_not_the_bottleneck() -> None:
    assert yuzui(300.0)["named"] == "reach_stackers"


def test_without_the_lifts_table_the_rmgs_have_no_figure() -> None:
    data = frames(*records(540.0))
    del data["lifts"]
    [found] = [b for b in bottlenecks(data, STATIONS, WINDOW) if b.yard == YZ]
    loads = {load.resource: load for load in found.resources}
    assert loads["rmgs"].utilisation is None
    assert loads["reach_stackers"].utilisation == pytest.approx(0.2)
    assert found.bottleneck == "reach_stackers"


def test_no_wait_anywhere_names_nothing() -> None:
    quiet = [Lift(YZ, "rmg", "CSQU3054383", "train_load", 0.0, 100.0), truck(0.0, 0.0, 10.0)]
    [found] = [b for b in bottlenecks(frames(*quiet), STATIONS, WINDOW) if b.yard == YZ]
    assert found.bottleneck is None
    other = [b for b in bottlenecks(frames(*quiet), STATIONS, WINDOW) if b.yard != YZ]
    assert all(b.bottleneck is None and b.resources[0].waits == 0 for b in other)


STARVED = {"name": "starved", "stations": {"tuanjiecun": {"handling": {"reach_stackers": 1}}}}
"""团结村 with one reach stacker for every truck's lift (it has 9): the scenario's bottleneck."""


def named(table: dict[str, object]) -> dict[str, tuple[str | None, dict[str, ResourceLoad]]]:
    stations = parse_scenario(table).stations
    events = list(generate(stations, days=1, seed=5, start=DEFAULT_START))
    twin = replay(events, stations, seed=5)
    found = bottlenecks(record_frames(twin), stations, Window(360.0, 1440.0))
    return {b.yard: (b.bottleneck, {load.resource: load for load in b.resources}) for b in found}


def test_a_yard_with_one_reach_stacker_names_it() -> None:
    starved = named(STARVED)
    bottleneck, loads = starved["tuanjiecun"]
    assert bottleneck == "reach_stackers"
    assert loads["reach_stackers"].capacity == 1
    assert loads["reach_stackers"].utilisation is not None
    assert loads["reach_stackers"].utilisation > 0.95
    assert loads["reach_stackers"].wait_mean_min is not None
    assert loads["reach_stackers"].wait_mean_min > 60.0
    baseline = named({"name": "baseline"})
    assert baseline["tuanjiecun"][0] != "reach_stackers"
    assert baseline["tuanjiecun"][1]["reach_stackers"].capacity == 9
    assert all(starved[yard][0] != "reach_stackers" for yard in ("xiaonanya", "yuzui"))

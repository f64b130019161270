"""The corridor's levers as policies: each changes the yard the way its module says, chosen in
a scenario, and no lever pulled is today's yard, report for report."""

import dataclasses
import itertools
import math
import re
import tomllib
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import msgspec
import pandas as pd
import pytest

from corridor import jobs
from corridor.contract.event_types import Event, TruckDispatched
from corridor.kpis.result import KpiReport
from corridor.scenario import DEFAULT_START, Scenario, load_scenario, parse_scenario
from corridor.traffic.generator import generate
from stations.appointments import AppointmentBook
from stations.box import Box
from stations.loading_plan import BOOKING_ORDERS
from stations.policies import TODAY, AppointmentPolicy, parse_policies
from stations.timetable import Railway, TrainPlan

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
DOCS = Path(__file__).resolve().parent.parent / "docs" / "scenarios.md"


def run(
    scenario: Scenario,
    days: int = 2,
    seed: int = 4,
    adapt: Callable[[list[Event]], list[Event]] = list,
) -> jobs.JobResult:
    events = adapt(list(generate(scenario.stations, days=days, seed=seed, start=DEFAULT_START)))
    until = DEFAULT_START + timedelta(days=days)
    source = jobs.simulation_input(scenario, seed, days, DEFAULT_START)
    return jobs.replay_events(
        events, scenario, source=source, seed=seed, start=DEFAULT_START, until=until
    )


def scenario_of(text: str) -> Scenario:
    return parse_scenario(tomllib.loads(text))


@pytest.fixture(scope="module")
def today() -> jobs.JobResult:
    return run(load_scenario(None))


# appointment slots


def test_a_full_slot_sends_the_next_truck_to_the_next_slot_spread_evenly() -> None:
    book = AppointmentBook(AppointmentPolicy(slot_min=30.0, trucks_per_slot=2))
    assert [book.arrival(0.0) for _ in range(5)] == [0.0, 15.0, 30.0, 45.0, 60.0]


def test_a_truck_never_comes_before_its_eta() -> None:
    book = AppointmentBook(AppointmentPolicy(slot_min=30.0, trucks_per_slot=3))
    assert book.arrival(25.0) == 25.0  # first place of slot 0 starts at 0: the eta is later
    assert book.arrival(5.0) == 10.0  # second place: 10 min into the slot
    assert book.arrival(29.0) == 29.0
    assert book.arrival(29.0) == 30.0  # slot 0 is full


def test_appointments_flatten_the_gate_peak(today: jobs.JobResult) -> None:
    tight = scenario_of(
        "[policies.all.truck_appointments]\nslot_min = 60.0\ntrucks_per_slot = 12\n"
    )
    slotted = run(tight).frames["truck_visits"]
    base = today.frames["truck_visits"]

    def busiest_hour(visits: pd.DataFrame) -> int:
        arrived = visits[visits["yard"] == "tuanjiecun"]["arrived"]
        return int((arrived // 60).value_counts().max())

    assert busiest_hour(base) > 12
    assert busiest_hour(slotted) <= 12
    assert (slotted["arrived"] >= slotted["dispatched"]).all()


# smart tallying


def test_smart_tallying_shortens_the_gate_and_the_lifts(today: jobs.JobResult) -> None:
    fast = run(
        scenario_of(
            "[policies.all.tallying]\ngate_time_factor = 0.5\nexception_share_factor = 0.5\n"
            "lift_time_factor = 0.5\n"
        )
    )

    def mean(result: jobs.JobResult, table: str, column: str) -> float:
        frame = result.frames[table]
        return float(frame[column].mean())

    assert mean(fast, "truck_visits", "exception_lane") < 0.8 * mean(
        today, "truck_visits", "exception_lane"
    )

    def lift_min(result: jobs.JobResult) -> float:
        lifts = result.frames["lifts"]
        return float((lifts["end"] - lifts["start"]).mean())

    assert lift_min(fast) < 0.6 * lift_min(today)
    gate_use = [result.report["yards"]["yuzui"]["utilisation"]["gate"] for result in (fast, today)]
    assert gate_use[0] is not None
    assert gate_use[1] is not None
    assert gate_use[0] < gate_use[1]


# the loading plan


def box(n: int) -> Box:
    return Box(f"BOX{n}", "export", 1, False, entered=0.0)


def test_earliest_cutoff_first_books_on_the_departure_that_closes_first() -> None:
    early_departure = TrainPlan("EU", departure=600.0, cutoff=360.0, capacity_teu=10)  # 4 h
    early_cutoff = TrainPlan("SEA", departure=620.0, cutoff=300.0, capacity_teu=10)
    today_plan, smart = Railway(), Railway(booking_order=BOOKING_ORDERS["earliest_cutoff_first"])
    for railway in (today_plan, smart):
        railway.add(dataclasses.replace(early_departure), 0.0)
        railway.add(dataclasses.replace(early_cutoff), 0.0)
    first, second = box(1), box(2)
    today_plan.book(first, 0.0)
    smart.book(second, 0.0)
    assert first.train_id == "EU"
    assert second.train_id == "SEA"


def test_a_box_booked_at_the_cutoff_instant_starts_loading_then() -> None:
    railway = Railway()
    railway.add(TrainPlan("EU", departure=600.0, cutoff=360.0, capacity_teu=10), 0.0)
    early, at_cutoff = box(1), box(2)
    railway.book(early, 359.0)
    railway.book(at_cutoff, 360.0)  # the train's loading process may have stamped its boxes
    assert math.isnan(early.loading_start)  # stamped by the loading process at the cut-off
    assert at_cutoff.loading_start == 360.0
    assert at_cutoff.train_id == "EU"


def test_the_smart_plan_keeps_a_booked_box_on_its_train_and_orders_the_rest() -> None:
    departures = [
        TrainPlan("EU", departure=600.0, cutoff=360.0, capacity_teu=1),
        TrainPlan("SEA", departure=620.0, cutoff=300.0, capacity_teu=10),
        TrainPlan("LATE", departure=900.0, cutoff=200.0, capacity_teu=10),
    ]
    smart = Railway(booking_order=BOOKING_ORDERS["earliest_cutoff_first"])
    for plan in departures:
        smart.add(plan, 0.0)
    shipper_booked, unbooked, rolled = box(1), box(2), box(3)
    shipper_booked.booked_on = rolled.booked_on = "EU"
    for each in (shipper_booked, unbooked, rolled):
        smart.book(each, 0.0)
    assert shipper_booked.train_id == "EU"  # its own train, though LATE's cut-off is earlier
    assert unbooked.train_id == "LATE"  # the plan's choice: the earliest cut-off
    assert rolled.train_id == "LATE"  # EU is full: the plan's order, never an earlier train


# reefer checks


def without_shipper_bookings(events: list[Event]) -> list[Event]:
    """The traffic with every export's `train_id` dropped: boxes take the first train with room."""
    return [
        msgspec.structs.replace(event, train_id=None)
        if isinstance(event, TruckDispatched)
        else event
        for event in events
    ]


def test_manual_reefer_checks_hold_reefers_and_remote_monitoring_gives_the_time_back() -> None:
    # A box its shipper booked keeps its train, and the generator books at least an hour beyond
    # the latest cut-off, so a check rarely costs a booked reefer its train and the difference
    # in dwell is within the noise. The check's hold shows where a box clears onto the first
    # train with room (no booking, e.g. a DCSA replay): four days of that traffic.
    today, manual, remote = (
        run(load_scenario(path), days=4, adapt=without_shipper_bookings)
        for path in (
            None,
            SCENARIOS / "reefer-manual-checks.toml",
            SCENARIOS / "reefer-remote-monitoring.toml",
        )
    )

    def reefer_dwell(report: KpiReport) -> float:
        value = report["corridor"]["dwell_h"]["by"]["reefer"]["mean"]
        assert value is not None
        return value

    assert reefer_dwell(manual.report) > reefer_dwell(remote.report)
    assert reefer_dwell(remote.report) >= reefer_dwell(today.report) - 1e-9
    general = today.report["corridor"]["dwell_h"]["by"]["import"]
    assert manual.report["corridor"]["dwell_h"]["by"]["import"] == general  # imports untouched


def test_a_reefer_check_comes_before_customs_clears_the_box(today: jobs.JobResult) -> None:
    manual = run(load_scenario(SCENARIOS / "reefer-manual-checks.toml"))
    check_low_min = 5.0  # the scenario's shortest check: every export reefer has one

    def export_reefers(result: jobs.JobResult) -> pd.DataFrame:
        boxes = result.frames["box_visits"]
        cleared = boxes[(boxes["direction"] == "export") & boxes["reefer"]]
        return cleared[cleared["cleared"].notna()]

    checked, unchecked = export_reefers(manual), export_reefers(today)
    assert len(checked) > 10
    assert (checked["inspection_start"] >= checked["stacked"] + check_low_min).all()
    assert (checked["cleared"] >= checked["inspection_start"]).all()
    not_held = unchecked[~unchecked["inspected"]]
    assert len(not_held) > 0
    assert (not_held["cleared"] == not_held["stacked"]).all()  # no check: cleared when stacked


EXPORT_MILESTONES = ["entered", "stacked", "inspection_start", "cleared", "loading_start", "left"]


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda path: path.stem)
def test_export_milestones_come_in_order_under_every_scenario(path: Path) -> None:
    boxes = run(load_scenario(path), days=1).frames["box_visits"]
    times = boxes.loc[boxes["direction"] == "export", EXPORT_MILESTONES]
    assert times["loading_start"].notna().sum() > 0  # some boxes went all the way
    for earlier, later in itertools.pairwise(EXPORT_MILESTONES):
        passed = times[later].notna()
        assert times.loc[passed, earlier].notna().all(), (earlier, later)  # none skipped
        assert (times.loc[passed, later] >= times.loc[passed, earlier]).all(), (earlier, later)


# selecting policies in a scenario


def test_no_lever_is_todays_yard_report_for_report(today: jobs.JobResult) -> None:
    baseline = load_scenario(SCENARIOS / "baseline.toml")
    assert all(spec.policies == TODAY for spec in baseline.stations.values())
    assert run(baseline).report == today.report


def test_policies_for_all_yards_and_one_yard_merge() -> None:
    scenario = scenario_of(
        '[policies.all]\nloading_plan = "earliest_cutoff_first"\n'
        "[policies.yuzui.tallying]\ngate_time_factor = 0.8\n"
    )
    yuzui, tuanjiecun = scenario.stations["yuzui"], scenario.stations["tuanjiecun"]
    assert yuzui.policies.loading_plan == "earliest_cutoff_first"
    assert yuzui.policies.tallying is not None
    assert yuzui.policies.tallying.gate_time_factor == 0.8
    assert tuanjiecun.policies.tallying is None


def test_demand_grows_by_yard_and_direction() -> None:
    base = load_scenario(None).stations["xiaonanya"].traffic
    grown = scenario_of("[demand.xiaonanya]\nexport = 1.5\n").stations["xiaonanya"].traffic
    assert grown.export_boxes_per_day == pytest.approx(base.export_boxes_per_day * 1.5)
    assert grown.import_boxes_per_day == base.import_boxes_per_day


def test_an_extra_departure_is_added_to_the_timetable() -> None:
    base = load_scenario(None).stations["yuzui"].rail.timetable
    extra = load_scenario(SCENARIOS / "extra-evening-train.toml").stations["yuzui"].rail.timetable
    assert extra[: len(base)] == base
    assert [entry.departure for entry in extra[len(base) :]] == ["20:00"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[policies.nowhere.tallying]\ngate_time_factor = 0.5\n", "policies: unknown yard"),
        ("[policies.yuzui.teleport]\nx = 1\n", "policies.yuzui: unknown policy teleport"),
        ("[policies.yuzui]\nloading_plan = 'random'\n", "policies.yuzui.loading_plan: expected"),
        ("[policies.yuzui.tallying]\ngate_time_factor = 0\n", "gate_time_factor: expected a"),
        ("[policies.yuzui.truck_appointments]\nslot_min = 30\n", "trucks_per_slot: missing"),
        (
            "[policies.yuzui.reefer_checks]\nmode = 'psychic'\ntechnicians = 1\n"
            "check_min = 1\nresponse_min = 1\n",
            "reefer_checks.mode: expected 'manual' or 'remote'",
        ),
        ("[demand.yuzui]\nexports = 2\n", "demand.yuzui: unknown key(s) exports"),
        ("[demand.yuzui]\nexport = -1\n", "demand.yuzui.export: expected a non-negative"),
        ("[[extra_departures.yuzui]]\nservice = 'x'\n", "departure"),
    ],
)
def test_a_bad_policy_is_an_error_naming_it(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        scenario_of(text)


def test_parse_policies_alone_accepts_today() -> None:
    assert parse_policies({}, "policies.yuzui") == TODAY


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda path: path.stem)
def test_every_shipped_scenario_loads_and_is_documented(path: Path) -> None:
    scenario = load_scenario(path)
    text = path.read_text("utf-8")
    assert scenario.name == path.stem
    assert text.startswith("# ")  # what it models, in the file's opening comment
    assert "Estimates" in text or path.stem == "baseline"  # and which figures are estimates
    assert f"scenarios/{path.name}" in DOCS.read_text("utf-8")

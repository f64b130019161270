"""What-ifs forked from the live yard: baseline and scenario from one state, common random
numbers, the planner's comparison.

A scenario identical to the baseline gives identical figures (every difference exactly 0); in a
yard overloaded by a scenario (鱼嘴 with one reach stacker and three times its demand), two
more reach stackers from now on cut the truck turnaround, with a paired 95 % interval that
excludes 0. What a running yard cannot change is refused, naming it.
"""

from datetime import timedelta
from pathlib import Path

import pytest

from corridor.compare.report import write_comparison
from corridor.forecast.start_state import replay_start
from corridor.forecast.whatif import BASELINE, what_if
from corridor.scenario import DEFAULT_START, parse_scenario
from corridor.traffic.generator import generate
from stations.spec import StationSpec, load_all_stations

SEED = 9
NOW = DEFAULT_START + timedelta(days=2, hours=9)  # 09:00 local, the morning peak


def stations_of(overrides: dict[str, object]) -> dict[str, StationSpec]:
    return parse_scenario({"stations": overrides}).stations


OVERLOADED = {
    "yuzui": {
        "handling": {"reach_stackers": 1},
        "traffic": {"export_boxes_per_day": 360.0, "import_boxes_per_day": 240.0},
    }
}


def test_a_scenario_identical_to_the_baseline_changes_nothing() -> None:
    stations = load_all_stations()
    events = list(generate(stations, days=3, seed=SEED, start=DEFAULT_START))
    start = replay_start(events, stations, SEED, NOW)
    result = what_if(start, load_all_stations(), seed=SEED, name="same", hours=2, replications=3)
    frame = result.comparison.frame
    assert set(frame["method"]) == {"paired"}
    assert (frame["difference"].dropna() == 0.0).all()
    assert len(frame["difference"].dropna()) > 10
    assert result.baseline.as_dict() == result.scenario.as_dict()


def test_two_more_reach_stackers_cut_the_turnaround_of_an_overloaded_yard(tmp_path: Path) -> None:
    overloaded = stations_of(OVERLOADED)
    events = list(generate(overloaded, days=3, seed=SEED, start=DEFAULT_START))
    start = replay_start(events, overloaded, SEED, NOW)
    relieved = stations_of({"yuzui": {**OVERLOADED["yuzui"], "handling": {"reach_stackers": 3}}})
    result = what_if(start, relieved, seed=SEED, name="two more reach stackers", hours=4,
                     replications=5)  # fmt: skip
    frame = result.comparison.frame.set_index(["scope", "kpi"])
    turnaround = frame.loc[("yuzui", "turnaround_min.mean")]
    assert turnaround["significant"]
    assert turnaround["ci95_high"] < 0.0
    assert turnaround["difference"] < -0.2 * turnaround["base"]  # a cut, not a nudge
    for other in ("tuanjiecun", "xiaonanya"):  # the other yards did not change at all
        assert frame.loc[(other, "turnaround_min.mean"), "difference"] == 0.0
    written = write_comparison(result.comparison, tmp_path)
    page = written[2].read_text("utf-8")
    assert BASELINE in page
    assert "two more reach stackers" in page


def test_what_a_running_yard_cannot_change_is_refused() -> None:
    stations = load_all_stations()
    events = list(generate(stations, days=1, seed=SEED, start=DEFAULT_START))
    start = replay_start(events, stations, SEED, DEFAULT_START + timedelta(hours=20))
    bigger = stations_of({"yuzui": {"stack": {"reefer_plugs": 999}}})
    with pytest.raises(ValueError, match=r"yuzui\.stack: cannot change on a running yard"):
        what_if(start, bigger, seed=SEED, hours=1, replications=2)

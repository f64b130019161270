"""Warm-up: the KPI window starts H hours later and records that started before it are dropped."""

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from corridor import jobs
from corridor.engine.clock import to_minutes
from corridor.kpis.warmup import drop_warmup
from corridor.scenario import DEFAULT_START, Scenario
from corridor.traffic.generator import generate
from stations.spec import load_all_stations

WARMUP = timedelta(hours=8)


@pytest.fixture(scope="module")
def warmed() -> jobs.JobResult:
    scenario = Scenario(load_all_stations())
    events = list(generate(scenario.stations, days=1, seed=5, start=DEFAULT_START))
    end = DEFAULT_START + timedelta(days=1)
    return jobs.replay_events(
        events, scenario, seed=5, start=DEFAULT_START, until=end, warmup=WARMUP
    )


def test_the_period_starts_when_the_warmup_ends(warmed: jobs.JobResult) -> None:
    period = warmed.report["run"]["period"]
    assert period["start"] == (DEFAULT_START + WARMUP).astimezone(warmed.epoch.tzinfo).isoformat()
    assert period["days"] == pytest.approx(16 / 24, rel=1e-5)


def test_trucks_and_boxes_that_started_in_the_warmup_are_not_counted(
    warmed: jobs.JobResult,
) -> None:
    assert warmed.epoch is not None
    begin = to_minutes(DEFAULT_START + WARMUP, warmed.epoch)
    end = to_minutes(DEFAULT_START + timedelta(days=1), warmed.epoch)
    visits = warmed.frames["truck_visits"]  # the record tables keep every record
    left_in_window = (visits["departed"] >= begin) & (visits["departed"] < end)
    straddling = left_in_window & (visits["arrived"] < begin)
    assert straddling.sum() > 0  # else this test could not tell the rule from a moved window
    assert warmed.report["corridor"]["trucks"] == int((left_in_window & ~straddling).sum())
    boxes = warmed.frames["box_visits"]
    out = (boxes["left"] >= begin) & (boxes["left"] < end) & (boxes["entered"] >= begin)
    assert warmed.report["corridor"]["throughput"]["teu_out"] == int(boxes.loc[out, "teu"].sum())


def test_drop_warmup_on_a_hand_checkable_table() -> None:
    frames = {
        "truck_visits": pd.DataFrame(
            {"arrived": [10.0, 59.9, 60.0, np.nan], "departed": 4 * [99.0]}
        ),
        "levels": pd.DataFrame({"time": [0.0, 30.0], "value": [1.0, 2.0]}),
    }
    kept = drop_warmup(frames, 60.0)
    # started before 60 dropped; at 60 kept; a NaN start kept for the KPI code to refuse by name
    assert kept["truck_visits"]["arrived"].tolist()[0] == 60.0
    assert np.isnan(kept["truck_visits"]["arrived"].tolist()[1])
    assert len(kept["truck_visits"]) == 2
    assert kept["levels"] is frames["levels"]  # time-weighted over the window: nothing dropped


def test_a_warmup_as_long_as_the_log_is_refused() -> None:
    scenario = Scenario(load_all_stations())
    events = list(generate(scenario.stations, days=1, seed=5, start=DEFAULT_START))[:500]
    with pytest.raises(jobs.JobError, match="leaves nothing to report"):
        jobs.replay_events(events, scenario, warmup=timedelta(days=2))

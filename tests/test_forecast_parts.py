"""A forecast in yard parts, merged: the corridor does not depend on who forecast which yard.

Members of a consumer group each forecast the yards they own from their own twin's snapshot
(`corridor.forecast.live_start.run_live_parts`); the store merges the parts
(`corridor.forecast.yard_parts.merge_parts`). The merge of any split of the yards must be the
forecast of one process holding every yard, to the byte; parts survive JSON (NaN hours too).
"""

import json
import math

import pytest

from corridor.contract.events import Event
from corridor.engine.snapshots import encode
from corridor.forecast.live_start import LiveForecastJob, run_live_forecast, run_live_parts
from corridor.forecast.measures import YardOutcome
from corridor.forecast.start_state import replay_start
from corridor.forecast.yard_parts import from_part, merge_parts, split, to_part
from corridor.scenario import DEFAULT_START
from corridor.traffic.generator import generate
from stations.spec import StationSpec, load_all_stations
from tests.test_forecast_live import NOW, SEED


@pytest.fixture(scope="module")
def stations() -> dict[str, StationSpec]:
    return load_all_stations()


@pytest.fixture(scope="module")
def snapshot_bytes(stations: dict[str, StationSpec]) -> bytes:
    events: list[Event] = list(generate(stations, days=4, seed=SEED, start=DEFAULT_START))
    return encode(replay_start(events, stations, SEED, NOW).fork(0).snapshot())


def job(
    snapshot: bytes, stations: dict[str, StationSpec], yards: set[str] | None
) -> LiveForecastJob:
    chosen = None if yards is None else frozenset(yards)
    return LiveForecastJob(snapshot, stations, NOW, hours=3, replications=3, yards=chosen)


def without_clock(result: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in result.items() if key != "computed_at"}


def test_any_split_of_the_yards_merges_into_the_forecast_of_every_yard(
    snapshot_bytes: bytes, stations: dict[str, StationSpec]
) -> None:
    whole = without_clock(run_live_forecast(job(snapshot_bytes, stations, None)))
    first, *rest = sorted(stations)
    shares = [{first}, set(rest)]
    parts = {}
    for share in shares:
        result = run_live_parts(job(snapshot_bytes, stations, share))
        assert set(result["parts"]) == share  # a member forecasts its own yards only
        parts.update(json.loads(json.dumps(result["parts"], allow_nan=False)))
    merged = merge_parts(NOW, 3, parts).as_dict()
    assert merged == whole
    reversed_order = dict(reversed(list(parts.items())))
    assert merge_parts(NOW, 3, reversed_order).as_dict() == whole
    assert merged["corridor"]["hours"][0]["gate_queue"]["p50"] is not None


def test_a_part_survives_json_with_hours_without_a_truck() -> None:
    runs = [
        YardOutcome(
            {"gate_queue": [0.5, 1.0], "turnaround_min": [math.nan, 20.0], "plugs_in_use": [3, 4]},
            7,
            {"T1": True},
            [6, 7],
            {"T1": 42.0},
        )
    ]
    back = from_part(json.loads(json.dumps(to_part(runs), allow_nan=False)))
    assert math.isnan(back[0].hourly["turnaround_min"][0])
    assert back[0].hourly["turnaround_min"][1] == 20.0
    assert (back[0].boxes_over_24h, back[0].trains_late, back[0].trains_due) == (
        7,
        {"T1": True},
        {"T1": 42.0},
    )
    assert split([{"a": runs[0]}]) == {"a": to_part(runs)}


def test_parts_of_different_forecasts_are_refused() -> None:
    one = to_part(
        [YardOutcome({"gate_queue": [1.0], "turnaround_min": [1.0], "plugs_in_use": [1.0]}, 0, {})]
    )
    with pytest.raises(ValueError, match="replication counts"):
        merge_parts(NOW, 1, {"a": one, "b": one + one})
    with pytest.raises(ValueError, match="at least one"):
        merge_parts(NOW, 1, {})


def test_a_yard_not_in_the_snapshot_is_refused(
    snapshot_bytes: bytes, stations: dict[str, StationSpec]
) -> None:
    with pytest.raises(ValueError, match="not in the snapshot"):
        run_live_parts(job(snapshot_bytes, stations, {"nowhere"}))

"""The live snapshot's fast paths give exactly what the plain Python paths gave.

On a twin fed eight generated days: the yard views as `streams.live.plain.plain` makes them
equal `dataclasses.asdict`'s; the KPI figures and partials as `api.store.sql_store.json_data`
makes them equal `jsonable`'s (NaN and infinities as null, numpy numbers as Python's); and a
record table's cached column arrays are read-only, so one KPI cannot change another's input.
"""

import dataclasses
import json
from datetime import UTC, datetime

import numpy as np
import pytest

from api.store.sql_store import json_data, jsonable
from corridor.kpis.frames import prepare_tables
from streams.live.plain import plain
from streams.live.reorder import to_micros
from streams.live.snapshots import kpi_outputs
from streams.live.twin import LiveTwin
from tests.broker_fixtures import SEED, generated_day, stations

EVENTS = generated_day(days=8)


@pytest.fixture(scope="module")
def live() -> LiveTwin:
    twin = LiveTwin(stations(), SEED)
    for event in EVENTS:
        twin.admit(event, b"")
    twin.advance(to_micros(EVENTS[-1].ts))
    return twin


def test_plain_views_equal_asdict(live: LiveTwin) -> None:
    twin = live.twin
    assert twin is not None
    views = [twin.state(yard) for yard in twin.yards]
    views += [status for yard in twin.yards for status in twin.reefers(yard)]
    views += [box for yard in twin.yards for box in twin.boxes_now(yard)]
    assert len(views) > 100, "a week of traffic leaves old boxes and reefers to list"
    assert [plain(view) for view in views] == [dataclasses.asdict(view) for view in views]


def test_json_data_equals_jsonable_on_snapshots_and_partials(live: LiveTwin) -> None:
    assert live.watermark is not None
    snapshots, partials = kpi_outputs(live, live.watermark, datetime.now(UTC))
    values = [s.kpis for s in snapshots] + [p.partial for p in partials]
    assert len(values) == 28, "4 scopes and 3 partials for each of 4 windows"
    for value in values:
        assert json.dumps(json_data(value)) == json.dumps(jsonable(value))


def test_json_data_writes_non_finite_numbers_as_null_and_numpy_as_python() -> None:
    given = {"nan": float("nan"), "inf": [float("-inf")], "f": np.float64(0.1), "i": np.int64(3)}
    assert json_data(given) == {"nan": None, "inf": [None], "f": 0.1, "i": 3}
    with pytest.raises(TypeError):
        json_data({"when": object()})


def test_cached_columns_are_read_only(live: LiveTwin) -> None:
    recent = live.recent_records()
    assert recent is not None
    tables = prepare_tables(recent.frames(0.0), list(stations()))
    boxes = tables["box_visits"]
    left = boxes.floats("left")
    assert boxes.floats("left") is left, "made once per table"
    with pytest.raises(ValueError, match="read-only"):
        left[0] = 0.0

"""The store's yard parts of forecasts (`api.store.yard_forecasts`, migration 0013).

Members store their yards' parts, fenced by their claims; once every yard of the corridor has
a part of a moment, the store merges them into the forecast the API serves, equal to the one a
single worker holding every yard stores; a yard's newer part of the same moment supersedes the
older (a hand-over), a revoked member's part is refused; only the newest moments are kept. On
SQLite and PostgreSQL.
"""

import copy
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.store import forecasts, yard_forecasts
from api.store.fencing import claim
from api.store.sql_store import SqlStore
from corridor.engine.snapshots import encode
from corridor.engine.twin import replay
from corridor.forecast.live_start import LiveForecastJob, run_live_parts
from corridor.forecast.yard_parts import PartsOwner, merge_parts
from corridor.scenario import DEFAULT_START
from corridor.store_contract import FencedError
from corridor.traffic.generator import generate
from stations.spec import load_all_stations
from tests.api_fixtures import test_settings

SEED = 3
NOW = DEFAULT_START + timedelta(days=1, hours=22)
GROUP = "corridor-twin"


@pytest.fixture(scope="module")
def computed() -> dict[str, Any]:
    """Every yard's part of one forecast, as one worker holding every yard computes it."""
    stations = load_all_stations()
    events = list(generate(stations, days=2, seed=SEED, start=DEFAULT_START))
    twin = replay(events, stations, SEED, until=NOW)
    twin.advance_to(NOW)
    return run_live_parts(LiveForecastJob(encode(twin.snapshot()), stations, NOW, 2, 2))


def share(result: dict[str, Any], yards: list[str]) -> dict[str, Any]:
    """A member's result: the parts of its yards only."""
    return {**result, "parts": {yard: result["parts"][yard] for yard in yards}}


def stored_without_clock(store: SqlStore) -> dict[str, Any]:
    stored = forecasts.latest(store.engine)
    assert stored is not None
    return {key: value for key, value in stored.result.items() if key != "computed_at"}


def test_members_parts_merge_into_the_single_workers_forecast(
    store: SqlStore, computed: dict[str, Any]
) -> None:
    yards = sorted(computed["parts"])
    one = claim(store.engine, GROUP, frozenset({("dispatch", 0)}))
    other = claim(store.engine, GROUP, frozenset({("dispatch", 1), ("dispatch", 2)}))
    put = store.put_yard_forecasts
    assert not put(share(computed, yards[:1]), 4, PartsOwner(GROUP, one, tuple(yards)))
    assert forecasts.latest(store.engine) is None  # the corridor waits for every yard
    part = yard_forecasts.newest(store.engine, yards[0])
    assert part is not None
    assert part.now == NOW
    assert put(share(computed, yards[1:]), 4, PartsOwner(GROUP, other, tuple(yards)))
    whole = merge_parts(NOW, 2, computed["parts"]).as_dict()
    assert stored_without_clock(store) == whole
    # a single worker stores every part at once, and merges at once: the same forecast
    assert put(computed, 4, PartsOwner("alone", None, tuple(yards)))
    assert stored_without_clock(store) == whole
    with store.engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT count(*) FROM forecasts").scalar_one()
    assert rows == 1  # merged again at the same moment: replaced, not added


def test_a_yards_newer_part_supersedes_and_a_revoked_members_is_refused(
    store: SqlStore, computed: dict[str, Any]
) -> None:
    yards = sorted(computed["parts"])
    old_owner = claim(store.engine, GROUP, frozenset({("dispatch", 0)}))
    put = store.put_yard_forecasts
    assert put(computed, 4, PartsOwner(GROUP, old_owner, tuple(yards)))
    new_owner = claim(store.engine, GROUP, frozenset({("dispatch", 0)}))  # the hand-over
    with pytest.raises(FencedError):
        put(share(computed, yards[:1]), 4, PartsOwner(GROUP, old_owner, tuple(yards)))
    changed = copy.deepcopy(computed)
    for run in changed["parts"][yards[0]]:
        run["boxes_over_24h"] += 1000
    assert put(share(changed, yards[:1]), 4, PartsOwner(GROUP, new_owner, tuple(yards)))
    assert stored_without_clock(store) == merge_parts(NOW, 2, changed["parts"]).as_dict()


def test_parts_of_the_newest_moments_only_are_kept(
    store: SqlStore, computed: dict[str, Any]
) -> None:
    yards = sorted(computed["parts"])
    for step in range(4):
        later = (NOW + timedelta(minutes=15 * step)).isoformat()
        store.put_yard_forecasts(
            {**computed, "now": later}, 2, PartsOwner(GROUP, None, tuple(yards))
        )
    with store.engine.connect() as connection:
        moments = connection.exec_driver_sql(
            "SELECT count(DISTINCT now), count(*) FROM yard_forecasts"
        ).one()
    assert tuple(moments) == (2, 2 * len(yards))
    stored = forecasts.latest(store.engine)
    assert stored is not None
    assert stored.now == NOW + timedelta(minutes=45)


def test_the_api_serves_a_yards_newest_part_before_the_corridor_is_merged(
    store: SqlStore, database_url: str, computed: dict[str, Any]
) -> None:
    yards = sorted(computed["parts"])
    first, second = yards[0], yards[1]
    put = store.put_yard_forecasts
    assert put(computed, 4, PartsOwner(GROUP, None, tuple(yards)))  # every yard at NOW
    later = {**share(computed, [first]), "now": (NOW + timedelta(minutes=15)).isoformat()}
    assert not put(later, 4, PartsOwner(GROUP, None, tuple(yards)))  # one member ahead
    with TestClient(create_app(test_settings(database_url), store=store)) as client:
        ahead = client.get(f"/yards/{first}/forecast", params={"hours": 2}).json()
        behind = client.get(f"/yards/{second}/forecast", params={"hours": 2}).json()
        corridor = client.get("/corridor/forecast", params={"hours": 2}).json()
    assert datetime.fromisoformat(ahead["now"]) == NOW + timedelta(minutes=15)
    alone = merge_parts(NOW, 2, computed["parts"]).as_dict()["yards"][first]
    assert [dict(hour, start=None) for hour in ahead["hours"]] == [
        dict(hour, start=None) for hour in alone["hours"]
    ]  # the same part, stored for a later moment
    assert datetime.fromisoformat(behind["now"]) == NOW  # the merged forecast's
    assert datetime.fromisoformat(corridor["now"]) == NOW  # the last moment every yard has

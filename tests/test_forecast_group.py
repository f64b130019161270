"""Forecasts under a consumer group: two members, each forecasting its own yards, serve the
forecast one worker holding every yard serves.

Two real worker processes (`corridor worker --membership group`, one SQLite store) share the
yards on the embedded broker; a third, a single worker of a group of its own on the same
topics, forecasts into a store of its own. The log ends 40 min past a grid point of the
forecast schedule (every 60 min here) with a lateness of 3 h, so every worker is caught up
before its watermark jumps (quiet input) past that point, and each stops there to take its
twin's snapshot (`streams.forecasting_worker`). Each member stores its yards' parts under its
claim, the store merges them (`api.store.yard_forecasts`), and the API then answers the
forecast of every yard and of the corridor equal to the single worker's: same event time,
same bands, same trains (all but the wall clock `computed_at`).
"""

import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from api.store import forecasts
from api.store.sql_store import SqlStore
from api.store.tables import table_of
from api.store.yard_forecasts import YardForecastRow
from corridor.contract.events import Event
from streams.broker import EmbeddedBroker
from streams.publish import publish
from streams.settings import KafkaSettings
from tests.api_fixtures import test_settings
from tests.broker_fixtures import generated_day, settings_for
from tests.test_worker_group import GROUP, owned, wait_for_shares
from tests.worker_processes import start_worker

pytestmark = [pytest.mark.broker, pytest.mark.slow]
EVERY = timedelta(minutes=60)
PAST_POINT = timedelta(minutes=40)
FORECASTS = {
    "CORRIDOR_FORECAST_EVERY_MIN": "60",
    "CORRIDOR_FORECAST_MIN_WALL_S": "0",
    "CORRIDOR_FORECAST_HOURS": "2",
    "CORRIDOR_FORECAST_REPLICATIONS": "2",
    "CORRIDOR_FORECAST_WORKERS": "1",
    "CORRIDOR_FORECAST_IDLE_CLASS": "false",
}


def grid_points(events: list[Event]) -> list[datetime]:
    """Points of the forecast grid on the first day where every yard has events in the
    40 min after it and none at it (a snapshot is taken between instants)."""
    yards = {event.yard for event in events}
    start = events[0].ts.replace(minute=0, second=0, microsecond=0)
    points = []
    for hour in range(10, 22):
        point = start + timedelta(hours=hour)
        after = {e.yard for e in events if point < e.ts < point + PAST_POINT}
        if after == yards and not any(e.ts == point for e in events):
            points.append(point)
    assert len(points) >= 2, "no two grid points with every yard busy after them"
    return points


@pytest.fixture
def forecast_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in FORECASTS.items():
        monkeypatch.setenv(name, value)


@dataclass
class Workers:
    """Two members of one group on one store, and a single worker on a store of its own."""

    settings: KafkaSettings
    urls: tuple[str, str]  # the group's store, the single worker's
    stores: tuple[SqlStore, SqlStore]
    logs: list[Path]  # first member, second member, single worker
    processes: list[subprocess.Popen[bytes]]

    def wait_for(self, point: datetime) -> None:
        """Until both stores hold the merged forecast from `point`."""
        for store, index in zip(self.stores, (0, 2), strict=True):
            wait_for_forecast(store, point, self.processes[index], self.logs[index])

    def served(self) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
        """What the API answers on the group's store and on the single worker's."""
        return served(self.stores[0], self.urls[0]), served(self.stores[1], self.urls[1])


@contextmanager
def three_workers(broker: EmbeddedBroker, tmp_path: Path, events: list[Event]) -> Iterator[Workers]:
    """`events` published, the workers started; stopped at the end."""
    settings = settings_for(broker, **GROUP, lateness=timedelta(hours=3))
    publish(events, settings)
    urls = (f"sqlite:///{tmp_path / 'group.db'}", f"sqlite:///{tmp_path / 'alone.db'}")
    stores = (SqlStore.open(urls[0]), SqlStore.open(urls[1]))
    logs = [tmp_path / name for name in ("first.log", "second.log", "alone.log")]
    alone = settings.model_copy(
        update={"membership": "assigned", "group_id": f"{settings.group_id}-alone"}
    )
    processes = [start_worker(settings, urls[0], log) for log in logs[:2]]
    processes.append(start_worker(alone, urls[1], logs[2]))
    try:
        yield Workers(settings, urls, stores, logs, processes)
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            process.wait(timeout=60)


def test_two_members_forecast_their_yards_and_the_api_serves_the_single_workers_forecast(
    broker: EmbeddedBroker, tmp_path: Path, forecast_env: None
) -> None:
    events = generated_day(days=1)
    point = grid_points(events)[0]
    with three_workers(broker, tmp_path, [e for e in events if e.ts < point + PAST_POINT]) as run:
        shares = wait_for_shares(run.logs[:2], run.processes[:2])
        assert not shares[0] & shares[1], shares
        run.wait_for(point)
        for process, log in zip(run.processes[:2], run.logs[:2], strict=True):
            assert process.poll() is None, log.read_text()[-3000:]

    claims = parts_by_claim(run.stores[0], point)
    assert len(claims) == 2, claims  # each member stored its own yards' parts
    assert not set.intersection(*claims.values())
    group_views, alone_views = run.served()
    assert set(group_views) == {"corridor", *sorted(set.union(*claims.values()))}
    for scope, view in group_views.items():
        assert datetime.fromisoformat(view["now"]) == point, scope
    assert group_views == alone_views


def wait_for_forecast(
    store: SqlStore, point: datetime, worker: subprocess.Popen[bytes], log: Path
) -> None:
    """Until the store holds the merged forecast from `point`."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        assert worker.poll() is None, log.read_text()[-3000:]
        stored = forecasts.latest(store.engine)
        if stored is not None and stored.now == point:
            return
        time.sleep(0.25)
    raise AssertionError(f"no forecast from {point} in time: {log.read_text()[-3000:]}")


def parts_by_claim(store: SqlStore, point: datetime) -> dict[str | None, set[str]]:
    table = table_of(YardForecastRow)
    query = select(table.c.claim, table.c.yard).where(table.c.now == point)
    claims: dict[str | None, set[str]] = {}
    with store.engine.connect() as connection:
        for claim, yard in connection.execute(query):
            claims.setdefault(claim, set()).add(yard)
    return claims


def served(store: SqlStore, url: str) -> dict[str, dict[str, Any]]:
    """What the API answers for the corridor and every yard (`computed_at` aside)."""
    views = {}
    with TestClient(create_app(test_settings(url), store=store)) as client:
        yards = [yard["id"] for yard in client.get("/yards").json()]
        for scope in ["corridor", *yards]:
            path = "/corridor/forecast" if scope == "corridor" else f"/yards/{scope}/forecast"
            answer = client.get(path, params={"hours": 2})
            assert answer.status_code == 200, (scope, answer.text)
            views[scope] = {k: v for k, v in answer.json().items() if k != "computed_at"}
    return views


def test_a_killed_members_yards_are_forecast_by_the_survivor_and_its_forecast_supersedes(
    broker: EmbeddedBroker, tmp_path: Path, forecast_env: None
) -> None:
    """A member is killed after both forecast a first moment; the survivor takes its yards
    (from the store: snapshots and archive) and, at a later moment, forecasts every yard under
    its own claim: the corridor and every yard served equal the single worker's there."""
    events = generated_day(days=1)
    first, later = grid_points(events)[:2]
    with three_workers(broker, tmp_path, [e for e in events if e.ts < first + PAST_POINT]) as run:
        survivor, killed = run.processes[:2]
        shares = wait_for_shares(run.logs[:2], [survivor, killed])
        run.wait_for(first)
        before = parts_by_claim(run.stores[0], first)
        assert len(before) == 2, before
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=10)
        wait_for_all(run.logs[0], survivor, shares[0] | shares[1])
        rest = [e for e in events if first + PAST_POINT <= e.ts < later + PAST_POINT]
        publish(rest, run.settings)
        run.wait_for(later)

    after = parts_by_claim(run.stores[0], later)
    assert len(after) == 1, after  # the survivor's claim alone
    [survivor_claim] = after
    assert survivor_claim not in before  # a claim of the new assignment
    assert after[survivor_claim] == set.union(*before.values())  # every yard
    group_views, alone_views = run.served()
    for scope, view in group_views.items():
        assert datetime.fromisoformat(view["now"]) == later, scope
    assert group_views == alone_views


def wait_for_all(log: Path, worker: subprocess.Popen[bytes], every: frozenset[str]) -> None:
    """Until the survivor logged an assignment of every partition."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert worker.poll() is None, log.read_text()[-3000:]
        taken = owned(log)
        if taken and taken[-1] == every:
            return
        time.sleep(0.2)
    raise AssertionError(f"the survivor did not take every partition: {log.read_text()[-3000:]}")

"""The worker forecasts from its live twin, on the real broker and store, and the API serves it.

A generated day is published at once; the worker catches up (no forecast then: catching up runs
at full speed), starts a forecast once caught up, in its own process, stores it, and
`GET /corridor/forecast` serves it: starting from a moment near the newest event, never from
one met while catching up.

The day is cut a few minutes past a grid point, so that the point lies within the lateness of
the newest event: the watermark crosses it only on its quiet move to the newest event, made
with every partition at its end, whatever the batches were. Cut elsewhere, the forecast hung on
timing: the watermark's first move (from none, once every partition delivered or was idle)
could cross the day's last grid point while one partition's end was not yet confirmed as new as
the input, and a worker not caught up then forecasts no moment before the next grid point (CI
failed so on `2d086f8`; 4 runs in 14 failed so on an idle machine, none in 29 since the cut).
"""

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.store.sql_store import SqlStore
from corridor.contract.events import Event
from streams.broker import EmbeddedBroker
from streams.connect import connect_worker
from streams.forecast_schedule import ForecastSettings
from streams.forecasting_worker import ForecastingWorker
from streams.live.reorder import from_micros, to_micros
from streams.publish import publish
from tests.api_fixtures import test_settings
from tests.broker_fixtures import SEED, generated_day, settings_for, stations

pytestmark = [pytest.mark.broker]
BATCH = 500
CUT_PAST_GRID = timedelta(minutes=3)  # under the lateness (5 min)


def cut_past_the_last_grid_point(every: timedelta) -> tuple[list[Event], datetime]:
    """The generated day up to `CUT_PAST_GRID` past its last grid point, and that point."""
    day = generated_day()
    step = int(every.total_seconds()) * 1_000_000
    point = from_micros(to_micros(max(event.ts for event in day)) // step * step)
    return [event for event in day if event.ts < point + CUT_PAST_GRID], point


def test_the_worker_stores_a_forecast_once_caught_up_and_the_api_serves_it(
    broker: EmbeddedBroker, store: SqlStore, database_url: str
) -> None:
    forecasts = ForecastSettings(
        hours=3, replications=2, workers=1, min_wall_s=0.0, idle_class=False
    )
    events, point = cut_past_the_last_grid_point(timedelta(minutes=forecasts.every_min))
    assert len(events) > 3 * BATCH  # several full batches before the last
    settings = settings_for(broker, batch_size=BATCH)
    newest = max(event.ts for event in events)
    assert newest - settings.lateness < point <= newest  # crossed on the quiet move only
    publish(events, settings)
    worker = connect_worker(settings, store, stations(), SEED, forecasts=forecasts)
    assert isinstance(worker, ForecastingWorker)
    try:
        worker.run(idle_exit_s=0.6)
        assert worker.forecasts.started >= 1
        worker.forecasts.collect(timeout=300)
        assert worker.forecasts.stored >= 1, "no forecast stored"
        watermark = worker.live.watermark
    finally:
        worker.close()
    assert watermark is not None

    with TestClient(create_app(test_settings(database_url), store=store)) as client:
        answer = client.get("/corridor/forecast", params={"hours": 3})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        yard = client.get("/yards/tuanjiecun/forecast", params={"hours": 1}).json()
    now = datetime.fromisoformat(body["now"])
    # started once caught up: within the lateness and a KPI step of the newest event (at
    # `point`, or at the one before if the catch-up's last move crossed it caught up)
    assert newest - settings.lateness - settings.kpi_every <= now <= from_micros(watermark)
    assert body["replications"] == 2
    assert [datetime.fromisoformat(h["start"]) for h in body["hours"]] == [
        now + timedelta(hours=h) for h in range(3)
    ]
    assert yard["now"] == body["now"]
    assert len(yard["hours"]) == 1
    assert body["boxes_over_24h"]["p50"] is not None

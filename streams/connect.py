"""The real Kafka clients of a worker, built from `KafkaSettings`: for the CLI and broker tests.

Creates the topics that do not exist, then an admin client, the broker watch, a consumer and a
producer whose errors go to that watch (`streams.broker_watch`), with the size limits of
`streams.clients`; with a store that keeps forecasts, the worker forecasts on a schedule
(`streams.forecasting_worker`). Tests of the loop's logic give the worker in-memory clients
instead.
"""

from collections.abc import Callable, Mapping
from datetime import datetime
from functools import partial

from corridor.store_contract import TwinStore
from stations.spec import StationSpec
from streams.broker_watch import BrokerWatch
from streams.clients import ensure_topics, make_admin, make_consumer, make_producer
from streams.forecast_schedule import ForecastSettings, schedule_for
from streams.forecasting_worker import ForecastingWorker
from streams.settings import KafkaSettings
from streams.worker import Worker, utc_now


def connect_worker(
    settings: KafkaSettings,
    store: TwinStore,
    stations: Mapping[str, StationSpec],
    seed: int,
    *,
    now: Callable[[], datetime] = utc_now,
    forecasts: ForecastSettings | None = None,
) -> Worker:
    """A worker on the broker of `settings` (its topics created if missing), forecasting on the
    schedule of `forecasts` (default: from the environment) when its store can keep them."""
    admin = make_admin(settings)
    ensure_topics(admin, settings, settings.all_topics)
    watch = BrokerWatch(admin, settings)
    forecasts = forecasts if forecasts is not None else ForecastSettings()
    schedule = schedule_for(forecasts, store, stations, settings.group_id)
    kind = Worker if schedule is None else partial(ForecastingWorker, forecasts=schedule)
    return kind(
        settings,
        store,
        stations,
        seed,
        consumer=make_consumer(settings, on_error=watch.on_error),
        producer=make_producer(settings, on_error=watch.on_error),
        admin=admin,
        watch=watch,
        now=now,
    )

"""What a running service holds: settings, the store, the station specs, caches and the jobs.

Built once by `api.app.create_app` and reached by routes through `api.deps`, so nothing in the
service is a module-level global and two apps (in tests, say) never share state.
"""

import tempfile
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry

from api.forecasts import Forecaster
from api.kpi_cache import TtlCache
from api.limits import ClientSlots
from api.metrics import RequestMetrics
from api.past_views import PastViews
from api.replay_runner import ReplayRunner
from api.settings import ApiSettings
from api.store.sql_store import SqlStore
from api.store_metrics import StoreMetrics
from api.whatif_jobs import WhatIfJobs
from stations.spec import StationSpec, load_all_stations


@dataclass(slots=True)
class Services:
    """The service's collaborators."""

    settings: ApiSettings
    store: SqlStore
    stations: dict[str, StationSpec]
    kpi_cache: TtlCache
    metrics: RequestMetrics
    replays: ReplayRunner
    streams: ClientSlots
    histories: ClientSlots
    past: PastViews
    forecaster: Forecaster
    whatifs: WhatIfJobs

    @classmethod
    def build(cls, settings: ApiSettings, store: SqlStore | None = None) -> "Services":
        """Connect (lazily: no query runs until startup) and assemble the collaborators."""
        store = store or SqlStore.open(settings.database_url, migrate=False)
        spool = Path(tempfile.gettempdir()) / "corridor-replays"
        stations = load_all_stations()
        forecaster = Forecaster(store.engine, settings, stations)
        registry = CollectorRegistry()  # the app's own: two apps never share counts
        registry.register(StoreMetrics(store.engine, stations))
        return cls(
            settings=settings,
            store=store,
            stations=stations,
            kpi_cache=TtlCache(settings.kpi_cache_ttl_s),
            metrics=RequestMetrics(registry),
            replays=ReplayRunner(
                store.engine, spool, settings.replay_workers, settings.replay_lease_s
            ),
            streams=ClientSlots(
                "event streams",
                total=settings.stream_max_connections,
                per_client=settings.stream_max_per_client,
                retry_after_s=settings.retry_after_s,
            ),
            histories=ClientSlots(
                "history queries",
                total=settings.history_max_concurrent,
                per_client=settings.history_max_per_client,
                retry_after_s=settings.retry_after_s,
            ),
            past=PastViews(
                store,
                stations,
                max_rebuilds=settings.past_max_rebuilds,
                cache_size=settings.past_cache_size,
                retry_after_s=settings.retry_after_s,
            ),
            forecaster=forecaster,
            whatifs=WhatIfJobs(store.engine, forecaster, settings.whatif_lease_s),
        )

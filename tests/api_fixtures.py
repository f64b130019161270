"""Fixtures for the API, store and dashboard tests: real databases, a real server.

`database_url` is parametrised over SQLite (a file per test, copied from one migrated per
session) and PostgreSQL (when `CORRIDOR_TEST_POSTGRES_URL` is set: a schema of its own for the
session, emptied before each test, dropped at the end, so runs are repeatable). Data reaches
the store the way the worker sends it: as `TwinBatch`es through `SqlStore.commit`.
"""

import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import create_engine, func, make_url, select, text

from api.app import create_app
from api.settings import ApiSettings
from api.store.db import make_engine, upgrade
from api.store.sql_store import SqlStore
from api.store.tables import KpiSnapshot as KpiSnapshotRow
from api.store.tables import table_of
from corridor.contract.container_ids import with_check_digit
from corridor.kpis.result import (
    AgeSummary,
    Bottleneck,
    Dwell,
    DwellStages,
    DwellSummary,
    ExportStages,
    ImportStages,
    InYard,
    Kpis,
    QueueLength,
    ReeferKpis,
    Tally,
    Throughput,
    Utilisation,
)
from corridor.store_contract import KpiSnapshot, TwinBatch
from stations.catalog import station_ids

POSTGRES_ENV = "CORRIDOR_TEST_POSTGRES_URL"
TEST_KEY = "test-key-4f1d2c9e8b7a"
T0 = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)
WINDOWS = ("1h", "shift", "24h", "7d")
SCOPES = (*station_ids(), "corridor")


# --- what the worker would commit ------------------------------------------------------------


def sample_kpis(level: float = 1.0) -> Kpis:
    """A KPI block of the kpis.json shape whose figures all scale with `level`."""
    turn = (30.0 * level, 28.0 * level, 45.0 * level, 50.0 * level, 70.0 * level)
    dwell = DwellSummary(
        **_tally(20.0 * level, 18.0 * level, 30.0 * level, 34.0 * level, 40.0 * level),
        share_within_24h=min(1.0, 0.6 / level),
        share_within_24h_departed=min(1.0, 0.7 / level),
        in_yard=InYard(
            boxes=int(600 * level),
            over_24h=int(40 * level),
            age_h=AgeSummary(p50=9.0 * level, p90=25.0 * level, max=90.0 * level),
        ),
    )
    stages: DwellStages = {
        "export": ExportStages(
            gate_to_stack=0.3 * level,
            waiting_for_inspection=0.1 * level,
            inspection=0.2 * level,
            waiting_for_train=4.0 * level,
            loading=1.4 * level,
        ),
        "import": ImportStages(waiting_for_unloading=2.0 * level, waiting_for_pickup=32.0 * level),
    }
    return Kpis(
        trucks=int(100 * level),
        truck_turn_min=_tally(*turn),
        gate_wait_min=_tally(*(minutes / 10 for minutes in turn)),
        gate_queue_len=QueueLength(mean=1.5 * level, max=int(8 * level)),
        dwell_h=Dwell(
            **dwell,
            by={"export": dwell, "import": dwell, "reefer": dwell},
            stages=stages,
            excess_share=stages,  # any figures of the shape will do here
            bottleneck=Bottleneck(stage="waiting_for_pickup", share=0.8),
        ),
        throughput=Throughput(
            teu_in=int(150 * level),
            teu_out=int(140 * level),
            lifts=int(300 * level),
            teu_per_day=1450.0 * level,
        ),
        utilisation=Utilisation(gate=0.2, exception_lane=0.35, handling=0.45, plugs=0.6, stack=0.3),
        reefer=ReeferKpis(
            readings=96, excursions=1, excursion_minutes=30.0, max_off_power_min=None
        ),
    )


def _tally(mean: float, p50: float, p90: float, p95: float, p99: float) -> Tally:
    return Tally(mean=mean, p50=p50, p90=p90, p95=p95, p99=p99)


def sample_state(yard: str, clock: datetime, gate_queue: int = 3) -> dict[str, Any]:
    """A yard state as `dataclasses.asdict(Twin.state(yard))` gives it (datetimes kept)."""
    return {
        "yard": yard,
        "clock": clock,
        "gate_queue": gate_queue,
        "exception_queue": 1,
        "trucks_in_yard": 12,
        "boxes_in_yard": 640,
        "stack_teu": 1010,
        "stack_capacity_teu": 8000,
        "plugs_in_use": 42,
        "reefer_plugs": 200,
        "reefers_waiting_for_plug": 0,
        "handling_busy": 7,
        "handling_capacity": 17,
        "inspections_in_progress": 2,
        "next_trains": [
            {
                "train_id": f"{yard}-X1",
                "departure": clock + timedelta(hours=2),
                "cutoff": clock - timedelta(hours=2),
                "capacity_teu": 100,
                "booked_teu": 64,
            },
        ],
    }


def reefer_id(serial: int) -> str:
    """A valid ISO 6346 reefer number."""
    return with_check_digit(f"CXRU{serial:06d}")


def sample_reefer(yard: str, serial: int, clock: datetime, **changes: Any) -> dict[str, Any]:
    """A reefer status as `dataclasses.asdict(ReeferStatus)` gives it."""
    status = {
        "container_id": reefer_id(serial),
        "yard": yard,
        "setpoint_c": -18.0,
        "supply_c": -18.3,
        "return_c": -17.1,
        "power": "on",
        "alarms": [],
        "last_reading": clock,
        "plugged": True,
        "in_excursion": False,
        "excursion_since": None,
        "estimated_cargo_c": -18.0,
        "minutes_to_breach": None,
        "breach_at": None,
    }
    return {**status, **changes}


def corridor_batch(as_of: datetime, level: float = 1.0, offset: int = 0) -> TwinBatch:
    """A batch with snapshots of every scope and window, every yard's state and reefers."""
    computed = datetime.now(UTC)
    snapshots = [
        KpiSnapshot(scope, window, as_of, computed, sample_kpis(level))
        for scope in SCOPES
        for window in WINDOWS
    ]
    reefers: list[Mapping[str, Any]] = [
        sample_reefer("yuzui", 1, as_of, alarms=["AL27"], in_excursion=True, excursion_since=as_of),
        sample_reefer("yuzui", 2, as_of, plugged=False, power="off"),
        sample_reefer("tuanjiecun", 3, as_of),
    ]
    return TwinBatch(
        group="corridor-twin",
        offsets={("corridor.events", 0): offset},
        snapshots=snapshots,
        yard_states=[
            sample_state(yard, as_of, gate_queue=int(3 * level)) for yard in station_ids()
        ],
        reefers=reefers,
    )


# --- databases -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a schema of this session's own (migrated)."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(
            f"PostgreSQL tests need {POSTGRES_ENV} (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)"
        )
    schema = f"api_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    rendered = url.render_as_string(hide_password=False)
    engine = make_engine(rendered)
    upgrade(engine)
    engine.dispose()
    try:
        yield rendered
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _empty_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        tables = connection.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                " AND tablename <> 'alembic_version'"
            )
        ).scalars()
        names = ", ".join(f'"{name}"' for name in tables)
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY"))
    engine.dispose()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated to head for the session, copied for each test that wants an
    empty database (running every migration per test cost about 0.2 s a test)."""
    template = tmp_path_factory.mktemp("template") / "corridor.db"
    engine = make_engine(f"sqlite:///{template}")
    upgrade(engine)
    engine.dispose()
    return template


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An empty, migrated database: a fresh SQLite file (a copy of the session's migrated one),
    or the session's PostgreSQL schema, emptied."""
    if request.param == "sqlite":
        fresh = tmp_path_factory.mktemp("db") / "corridor.db"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), fresh)
        return f"sqlite:///{fresh}"
    url: str = request.getfixturevalue("postgres_url")
    _empty_postgres(url)
    return url


@pytest.fixture
def store(database_url: str) -> Iterator[SqlStore]:
    """The store on that database, schema at head (migrated already: not checked again here;
    the app's startup checks it as in production)."""
    opened = SqlStore.open(database_url, migrate=False)
    yield opened
    opened.close()


def test_settings(database_url: str, **changes: Any) -> ApiSettings:
    """Production-mode settings with a real key, no cache and a fast stream."""
    values: dict[str, Any] = {
        "mode": "production",
        "database_url": database_url,
        "api_key": SecretStr(TEST_KEY),
        "kpi_cache_ttl_s": 0.0,
        "stream_poll_s": 0.1,
    }
    return ApiSettings(**{**values, **changes})


test_settings.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


@pytest.fixture
def app(store: SqlStore, database_url: str) -> FastAPI:
    """The service over the test store."""
    return create_app(test_settings(database_url), store=store)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """A client running the app's lifespan (migrations, replay pool)."""
    with TestClient(app) as running:
        yield running


# --- a real server -----------------------------------------------------------------------------


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


STOP_GRACE_S = 1  # uvicorn's wait for open connections at a stop (whole seconds)


@dataclass
class LiveServer:
    """A uvicorn server running an app in a thread, on a loopback port."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread


def start_server(app: FastAPI, port: int | None = None) -> LiveServer:
    """Start uvicorn for `app` (on `port`, or a free one) and wait until it accepts requests."""
    port = port or free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        # a page still open (its event stream never ends by itself) must not hold the stop:
        # uvicorn otherwise waits for its connections for ever, and the app's shutdown with it
        timeout_graceful_shutdown=STOP_GRACE_S,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    return LiveServer(f"http://127.0.0.1:{port}", server, thread)


def stop_server(live: LiveServer) -> None:
    """Ask uvicorn to exit and wait for its thread: its connections cut after `STOP_GRACE_S`,
    then the app's shutdown (a server left running would serve on into later tests)."""
    live.server.should_exit = True
    live.thread.join(timeout=60)
    if live.thread.is_alive():
        raise RuntimeError(f"uvicorn at {live.url} did not stop within 60 s")


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[LiveServer]:
    """The app served by uvicorn on a free loopback port."""
    live = start_server(app)
    yield live
    stop_server(live)


def wait_for_job(
    client: TestClient, job_id: str, timeout: float = 120.0, kind: str = "replays"
) -> dict[str, Any]:
    """Poll a job (`/replays/{id}`, or `/{kind}/{id}`) until it is done or failed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/{kind}/{job_id}").json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job /{kind}/{job_id} did not finish in {timeout} s")


def final_kpis(store: SqlStore) -> dict[tuple[str, str], Any]:
    """The KPI snapshots the store holds at its newest `as_of`, by (scope, window)."""
    table = table_of(KpiSnapshotRow)
    with store.engine.connect() as connection:
        newest = connection.execute(select(func.max(table.c.as_of))).scalar_one()
        rows = connection.execute(
            select(table.c.scope, table.c.window, table.c.kpis).where(table.c.as_of == newest)
        ).all()
    return {(scope, window): kpis for scope, window, kpis in rows}

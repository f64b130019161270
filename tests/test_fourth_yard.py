"""A fourth yard added as one station file runs through every stage: `corridor simulate`, the
worker's live twin, the store, the API and the dashboard, with no code changed.

The yard's file is written into a temporary directory (`tests.yard_files`) and switched on with
`corridor --stations DIR` or `CORRIDOR_STATIONS_DIR`, as an operator would.
"""

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.store.sql_store import SqlStore
from corridor.cli import main
from corridor.contract import eventlog
from corridor.contract.dcsa import convert_dcsa
from corridor.contract.dcsa_shapes import read_dcsa_bytes
from corridor.contract.events import Event, TruckDispatched, TruckGateIn, encode_event
from corridor.scenario import DEFAULT_START
from corridor.store_contract import KpiSnapshot, TwinBatch
from corridor.traffic.generator import generate
from stations.catalog import station_ids
from stations.spec import load_all_stations
from streams.live.reorder import to_micros
from streams.live.snapshots import kpi_snapshots, yard_views
from streams.live.twin import LiveTwin
from tests.api_fixtures import start_server, stop_server, test_settings
from tests.chromium import Chromium
from tests.yard_files import (
    FOURTH,
    FOURTH_CODE,
    FOURTH_COLOUR,
    FOURTH_OWNERS,
    extra_station_dir,
    station_files_restored,
    write_fourth_yard,
)

SEED = 3
DAYS = 2


@pytest.fixture
def fourth_yard(tmp_path: Path) -> Iterator[Path]:
    """The fourth yard's file, switched on for the test."""
    directory = tmp_path / "stations"
    directory.mkdir()
    write_fourth_yard(directory)
    with extra_station_dir(directory):
        yield directory


def simulate(out: Path, *options: str) -> dict[str, dict[str, object]]:
    """`corridor [options] simulate`, its kpis.json's yards."""
    out.mkdir()
    argv = [*options, "simulate", "--days", str(DAYS), "--seed", str(SEED), "--quiet"]
    assert main([*argv, "--out", str(out), "--log", str(out / "log.jsonl")]) == 0
    yards: dict[str, dict[str, object]] = json.loads((out / "kpis.json").read_text())["yards"]
    return yards


def test_simulate_reports_a_yard_added_with_stations_dir(tmp_path: Path) -> None:
    directory = tmp_path / "stations"
    directory.mkdir()
    write_fourth_yard(directory)
    three = simulate(tmp_path / "three")
    with station_files_restored():
        four = simulate(tmp_path / "four", "--stations", str(directory))
        log = list(eventlog.read_log(tmp_path / "four" / "log.jsonl"))
    assert list(four) == sorted([*three, FOURTH])
    assert four[FOURTH]["trucks"] > 0  # type: ignore[operator]
    # each yard draws its own random streams: the others' KPIs do not move
    assert {yard: four[yard] for yard in three} == three
    trucks = [e for e in log if isinstance(e, TruckDispatched) and e.yard == FOURTH]
    assert trucks
    assert all(e.truck_id.startswith(f"{FOURTH_CODE}-T") for e in trucks)
    assert {e.container_id[:4] for e in trucks} == set(FOURTH_OWNERS)


def fourth_yard_day() -> list[Event]:
    """A generated day at every yard, the fourth included, in event-time order."""
    return list(generate(load_all_stations(), days=1, seed=SEED, start=DEFAULT_START))


def drive(events: list[Event]) -> LiveTwin:
    """The worker's engine fed the events, advanced to the end of the day."""
    live = LiveTwin(load_all_stations(), SEED)
    for event in events:
        live.admit(event, encode_event(event))
    live.advance(to_micros(DEFAULT_START + timedelta(days=1)))
    return live


def test_the_live_twin_keeps_kpis_for_the_fourth_yard(fourth_yard: Path) -> None:
    events = fourth_yard_day()
    assert {event.yard for event in events} == set(station_ids())
    live = drive(events)
    as_of = to_micros(DEFAULT_START + timedelta(days=1))
    snapshots = {(s.scope, s.window): s for s in kpi_snapshots(live, as_of, datetime.now(UTC))}
    mine = snapshots[(FOURTH, "24h")].kpis
    assert mine["trucks"] > 0
    alone = drive([event for event in events if event.yard == FOURTH])
    alone_kpis = {
        (s.scope, s.window): s.kpis for s in kpi_snapshots(alone, as_of, datetime.now(UTC))
    }
    assert alone_kpis[(FOURTH, "24h")] == mine  # the yard's figures are its own events'
    states, _ = yard_views(live)
    assert FOURTH in {state["yard"] for state in states}


def stored_day(url: str) -> tuple[SqlStore, list[KpiSnapshot]]:
    """A store holding what the worker commits after a day at every yard: snapshots, states."""
    live = drive(fourth_yard_day())
    as_of = DEFAULT_START + timedelta(days=1)
    snapshots = kpi_snapshots(live, to_micros(as_of), datetime.now(UTC))
    states, reefers = yard_views(live)
    store = SqlStore.open(url)
    store.commit(
        TwinBatch("corridor-twin", {}, snapshots=snapshots, yard_states=states, reefers=reefers)
    )
    return store, snapshots


def test_the_api_serves_the_fourth_yard(fourth_yard: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'corridor.db'}"
    store, snapshots = stored_day(url)
    with TestClient(create_app(test_settings(url), store=store)) as client:
        yards = {yard["id"]: yard for yard in client.get("/yards").json()}
        detail = client.get(f"/yards/{FOURTH}").json()
        kpis = client.get(f"/yards/{FOURTH}/kpis", params={"window": "24h"}).json()
    store.close()
    assert list(yards) == list(station_ids())
    assert (yards[FOURTH]["name_zh"], yards[FOURTH]["code"]) == ("果园港", FOURTH_CODE)
    assert yards[FOURTH]["colour"] == FOURTH_COLOUR
    assert detail["facilities"]["rmgs"] == load_all_stations()[FOURTH].handling.rmgs
    assert detail["state"]["yard"] == FOURTH
    expected = next(s for s in snapshots if (s.scope, s.window) == (FOURTH, "24h"))
    assert kpis["kpis"]["trucks"] == expected.kpis["trucks"] > 0


@pytest.mark.browser
def test_the_dashboard_lists_the_fourth_yard_in_its_colour(
    fourth_yard: Path, tmp_path: Path, chromium: Chromium
) -> None:
    url = f"sqlite:///{tmp_path / 'corridor.db'}"
    store, _ = stored_day(url)
    live = start_server(create_app(test_settings(url, stream_poll_s=0.3), store=store))
    try:
        chromium.navigate(live.url + "/")
        chromium.wait_for("document.body.dataset.ready === 'true'")
        articles = chromium.evaluate(
            "[...document.querySelectorAll('.yard')].map(a => [a.dataset.scope,"
            " a.querySelector('.zh').textContent, a.style.getPropertyValue('--yard-color'),"
            " a.querySelector('[data-kpi=turn-p50]') !== null])"
        )
        subtitle = chromium.evaluate("document.getElementById('yard-names').textContent")
        legend = chromium.evaluate(
            "[...document.querySelectorAll('#corridor [data-legend] span')]"
            ".map(s => getComputedStyle(s).color)"
        )
    finally:
        stop_server(live)
        store.close()
    specs = load_all_stations()
    assert articles == [
        [yard, spec.name_zh, spec.identity.dashboard_colour, True] for yard, spec in specs.items()
    ]
    assert subtitle == " · ".join(f"{spec.name_zh} {spec.name_en}" for spec in specs.values())
    assert legend[list(specs).index(FOURTH)] == "rgb(107, 70, 193)"  # FOURTH_COLOUR
    assert chromium.errors == []


def test_dcsa_events_reach_the_fourth_yard_by_its_facility_code(fourth_yard: Path) -> None:
    record = {
        "eventType": "EQUIPMENT",
        "eventClassifierCode": "ACT",
        "equipmentEventTypeCode": "GTIN",
        "emptyIndicatorCode": "LADEN",
        "eventDateTime": "2026-03-01T08:00:00+08:00",
        "eventLocation": {"facilityCode": FOURTH_CODE},
        "equipmentReference": "CSQU3054383",
        "ISOEquipmentCode": "45G1",
        "transportCall": {"modeOfTransport": "TRUCK"},
    }
    raw = json.dumps([record]).encode()
    dispatched, gate_in = convert_dcsa(read_dcsa_bytes(raw), load_all_stations()).events
    assert isinstance(dispatched, TruckDispatched)
    assert isinstance(gate_in, TruckGateIn)
    assert (dispatched.yard, gate_in.yard) == (FOURTH, FOURTH)

"""The reefer alerts' boundaries against the way they were decided before most skipped the scan.

At a 15-minute boundary a yard with no reefer at risk and none under the bound at the boundary
before has nothing to alert or re-arm, so `ReeferAlerts.reach` runs its clock there (in model
minutes from integer microseconds) and skips the scan. The oracle (`ScanningAlerts`) is the
loop as it was: the clock run through datetimes, every monitored reefer scanned at every
boundary. A live twin fed a generated week must give the same alerts (same crossings, same
times, same order), the same records, and the same snapshot (alert memory included) under
both, however the events are batched; in baseline yards, and in yards with 3 plugs under a
35 °C sky, with readings turned to power cuts and readings past the band's edge (fixed seed).
"""

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import pytest

from corridor.contract.events import Event, ReeferReading
from corridor.scenario import DEFAULT_START, load_scenario
from corridor.traffic.generator import generate
from stations.spec import StationSpec
from streams.live import state
from streams.live.reefer_alerts import ReeferAlert, ReeferAlerts
from streams.live.reorder import Micros
from streams.live.twin import LiveTwin
from tests.reefer_oracle import ScanningAlerts, crowded

SEED = 11
EVERY: Micros = 15 * 60 * 1_000_000
LATENESS: Micros = 5 * 60 * 1_000_000
BOUND_MIN = 60.0


@dataclass
class Outputs:
    alerts: list[ReeferAlert]
    records: dict[str, list[tuple[Any, ...]]]
    snapshot: bytes  # the live twin's at the end, encoded


def week(stations: Mapping[str, StationSpec], disturbed: int) -> list[Event]:
    """A generated week, `disturbed` of its readings turned to power cuts or past the band."""
    events = list(generate(stations, days=7, seed=SEED, start=DEFAULT_START))
    readings = [i for i, event in enumerate(events) if isinstance(event, ReeferReading)]
    pick = random.Random(SEED)
    for index in pick.sample(readings, disturbed):
        reading = events[index]
        assert isinstance(reading, ReeferReading)
        events[index] = msgspec.structs.replace(
            reading,
            supply_c=reading.setpoint_c + pick.choice([0.0, 1.2, 2.5, 6.0]),
            power=pick.choice(["on", "off"]),
        )
    return events


def fed(
    stations: Mapping[str, StationSpec],
    events: Sequence[Event],
    batches: Sequence[int],
    alerts: ReeferAlerts,
) -> Outputs:
    """Admit `events` in batches of the sizes given in turn, the watermark the newest less the
    lateness after each, records drained as the worker drains them; then past the last."""
    live = LiveTwin(stations, SEED, alerts=alerts)
    taken: list[ReeferAlert] = []
    records: dict[str, list[tuple[Any, ...]]] = {}
    start, turn = 0, 0
    while start < len(events):
        size = batches[turn % len(batches)]
        for event in events[start : start + size]:
            live.admit(event, b"")
        start, turn = start + size, turn + 1
        assert live.newest is not None
        live.advance(live.newest - LATENESS)
        taken += live.take_alerts()
        assert live.twin is not None
        for name, rows in live.twin.drain().items():
            records.setdefault(name, []).extend(rows)
    assert live.newest is not None
    live.advance(live.newest + EVERY)
    taken += live.take_alerts()
    return Outputs(taken, records, state.encode(live.snapshot()))


CROWDED = crowded()
BASELINE = load_scenario(None).stations


@pytest.mark.parametrize(
    ("stations", "disturbed", "batches"),
    [
        (CROWDED, 300, [37, 2_500, 401]),
        (BASELINE, 200, [10_000]),
    ],
    ids=["crowded-mixed", "baseline-10000"],
)
def test_a_week_of_alerts_and_records_is_the_scans(
    stations: Mapping[str, StationSpec], disturbed: int, batches: list[int]
) -> None:
    events = week(stations, disturbed)
    new = fed(stations, events, batches, ReeferAlerts(BOUND_MIN, EVERY))
    old = fed(stations, events, batches, ScanningAlerts(BOUND_MIN, EVERY))
    assert len(old.alerts) > 10, "too few alerts: the test proves little"
    assert new.alerts == old.alerts
    assert new.records == old.records
    assert new.snapshot == old.snapshot

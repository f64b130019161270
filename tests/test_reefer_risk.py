"""The reefers at risk (`stations.reefer_risk`) against the scan of every monitored reefer.

The reefer alerts' scan (`reefer_breaches`) reads only a yard's reefers at risk, a set kept as
readings and plug waits change. At every 15-minute boundary the live twin decides, it must find
exactly what the scan of every monitored reefer found before (kept here as it was: the oracle),
the set must hold every reefer that scan would not skip, and the alerts, records and snapshots of
a run must be those of the same run scanning every reefer. Checked over generated days with few
plugs (most reefers wait for one, unpowered) in 35 °C air, with readings turned to power cuts
and temperatures near or past the band's edge at random (hypothesis, derandomized); after a
restart from the live twin's encoded snapshot mid-stream; and with event times in UTC instead of
+08:00 (the alerts compare each event's time with the next boundary in the events' own zone).
"""

import contextlib
import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import streams.live.reefer_alerts as reefer_alerts_module
from corridor.contract.events import Event, ReeferReading, encode_event
from corridor.engine.live_view import ReeferBreach, reefer_breaches
from corridor.scenario import DEFAULT_START
from corridor.traffic.generator import generate
from stations import reefer_risk
from stations.snapshot import SnapshotError
from stations.yard import Yard
from streams.live import state
from streams.live.reefer_alerts import ReeferAlert, ReeferAlerts
from streams.live.reorder import Micros, to_micros
from streams.live.twin import LiveTwin
from tests.reefer_oracle import ScanningAlerts, crowded, scan_every_reefer

SEED = 5
EVERY: Micros = 15 * 60 * 1_000_000
LATENESS: Micros = 5 * 60 * 1_000_000

STATIONS = crowded()
DAYS = list(generate(STATIONS, days=2, seed=SEED, start=DEFAULT_START))
READINGS = [i for i, event in enumerate(DAYS) if isinstance(event, ReeferReading)]


@dataclasses.dataclass
class Checked:
    """What the checked scans saw: boundaries decided, reefers found heading out, waits."""

    boundaries: int = 0
    breaches: int = 0
    waiting: int = 0


@contextlib.contextmanager
def scans(
    scan: Callable[[Yard, datetime], list[ReeferBreach]],
) -> Iterator[None]:
    """The alerts decide with `scan` instead of `reefer_breaches` while inside."""
    saved = reefer_alerts_module.reefer_breaches
    reefer_alerts_module.reefer_breaches = scan
    try:
        yield
    finally:
        reefer_alerts_module.reefer_breaches = saved


def checking(seen: Checked) -> Callable[[Yard, datetime], list[ReeferBreach]]:
    """`reefer_breaches`, checked at every boundary against the scan of every reefer."""

    def checked(yard: Yard, epoch: datetime) -> list[ReeferBreach]:
        expected = scan_every_reefer(yard, epoch)
        risky = {cid for cid, box in yard.monitored.items() if reefer_risk.at_risk(yard, box)}
        assert risky <= yard.reefers_at_risk, (
            f"{yard.spec.id}: missing {risky - yard.reefers_at_risk}"
        )
        got = reefer_breaches(yard, epoch)
        assert got == expected
        assert yard.reefers_at_risk == risky  # what the scan found safe left the set
        seen.boundaries += 1
        seen.breaches += len(got)
        seen.waiting += sum(reefer_risk.waiting_for_plug(yard.monitored[cid]) for cid in risky)
        return got

    return checked


def perturbed(events: Sequence[Event], changes: Mapping[int, tuple[float, bool]]) -> list[Event]:
    """`events` with the readings picked by `changes` (index among readings: supply air that
    far above setpoint, power on or off) changed; event times in UTC every `utc`-th event."""
    changed = list(events)
    for pick, (above_c, power_on) in changes.items():
        index = READINGS[pick % len(READINGS)]
        reading = changed[index]
        assert isinstance(reading, ReeferReading)
        changed[index] = msgspec.structs.replace(
            reading,
            supply_c=reading.setpoint_c + above_c,
            power="on" if power_on else "off",
        )
    return changed


def in_utc(events: Sequence[Event], every: int) -> list[Event]:
    """Every `every`-th event's time given in UTC (the same instant)."""
    return [
        msgspec.structs.replace(event, ts=event.ts.astimezone(UTC)) if i % every == 0 else event
        for i, event in enumerate(events)
    ]


@dataclasses.dataclass
class Run:
    alerts: list[ReeferAlert]
    snapshot: bytes  # the live twin's at the end, encoded: records, boxes, monitors, memory


def run(
    events: Sequence[Event],
    batch: int,
    *,
    split: int | None = None,
    live: LiveTwin | None = None,
    oracle: bool = False,
) -> tuple[Run, LiveTwin]:
    """Admit `events` `batch` at a time, the watermark the newest less the lateness after
    each; with `split`, snapshot (encoded) after that many batches and go on from a restored
    live twin (at the next batch if the snapshot is refused there). `oracle`: the alerts as
    they were decided before the reefers at risk (`ScanningAlerts`)."""
    deciding = ScanningAlerts(60.0, EVERY) if oracle else ReeferAlerts(60.0, EVERY)
    live = live or LiveTwin(STATIONS, SEED, alerts=deciding)
    alerts: list[ReeferAlert] = []
    for number, start in enumerate(range(0, len(events), batch)):
        for event in events[start : start + batch]:
            live.admit(event, encode_event(event))
        assert live.newest is not None
        live.advance(live.newest - LATENESS)
        alerts += live.take_alerts()
        if split is not None and number >= split:
            try:
                data = state.encode(live.snapshot())
            except SnapshotError:
                continue
            live = restarted(live, data)
            split = None
    assert live.newest is not None
    live.advance(live.newest + EVERY)
    alerts += live.take_alerts()
    return Run(alerts, state.encode(live.snapshot())), live


def restarted(live: LiveTwin, data: bytes) -> LiveTwin:
    """A live twin restored from `data`, whose reefers at risk are those of `live` still at
    risk (the set is not in the snapshot: it is worked out again)."""
    restored = LiveTwin.restored(state.decode(data), STATIONS, ReeferAlerts(60.0, EVERY))
    assert live.twin is not None
    assert restored.twin is not None
    for sid, yard in restored.twin.yards.items():
        before = live.twin.yards[sid]
        still = {cid for cid in before.reefers_at_risk if cid in before.monitored}
        still = {cid for cid in still if reefer_risk.at_risk(before, before.monitored[cid])}
        assert yard.reefers_at_risk == still
        for cid, box in yard.monitored.items():  # what the next reading's test starts from
            assert box.reefer_monitor is not None
            was = before.monitored[cid].reefer_monitor
            assert was is not None
            assert box.reefer_monitor.in_band == was.in_band, cid
    return restored


SLOW_EXAMPLES = {
    "derandomize": True,
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow],
    "phases": (Phase.explicit, Phase.generate),  # an example takes seconds: no shrinking
}

CHANGES = st.dictionaries(
    st.integers(0, 10**6),
    st.tuples(st.sampled_from([0.0, 0.4, 1.2, 1.9, 2.5, 6.0]), st.booleans()),
    min_size=0,
    max_size=60,
)


@settings(max_examples=8, **SLOW_EXAMPLES)
@given(changes=CHANGES, batch=st.integers(40, 4_000), utc=st.sampled_from([0, 1, 2, 7]))
def test_the_reefers_at_risk_find_what_a_scan_of_every_reefer_finds(
    changes: dict[int, tuple[float, bool]], batch: int, utc: int
) -> None:
    events = perturbed(DAYS, changes)
    seen = Checked()
    with scans(checking(seen)):
        new, _ = run(events if not utc else in_utc(events, utc), batch)
    old, _ = run(events, batch, oracle=True)
    assert new.alerts == old.alerts
    assert new.snapshot == old.snapshot
    assert seen.boundaries > 200, seen  # (scanned: those with a reefer at risk or under the bound)
    assert seen.breaches > 0, seen
    assert seen.waiting > 0, seen
    assert old.alerts, "no alert at all: the test proves nothing"


@settings(max_examples=6, **SLOW_EXAMPLES)
@given(changes=CHANGES, batch=st.integers(200, 3_000), split=st.integers(0, 30))
def test_a_restart_from_the_snapshot_keeps_the_reefers_at_risk(
    changes: dict[int, tuple[float, bool]], batch: int, split: int
) -> None:
    events = perturbed(DAYS, changes)
    whole, _ = run(events, batch, oracle=True)
    seen = Checked()
    with scans(checking(seen)):
        resumed, _ = run(events, batch, split=split)
    assert resumed.alerts == whole.alerts
    assert resumed.snapshot == whole.snapshot


def test_a_reading_puts_a_reefer_at_risk_and_takes_it_off() -> None:
    """One reefer by hand: a power cut puts it in the set, power back within the band takes
    it out (unless it waits for a plug), a reading past the band's edge puts it back."""
    first = DAYS[READINGS[0]]
    assert isinstance(first, ReeferReading)
    live = LiveTwin(STATIONS, SEED, alerts=ReeferAlerts(60.0, EVERY))
    for event in DAYS[: READINGS[0]]:
        live.admit(event, encode_event(event))
    steps = [(0.0, "off", True), (0.0, "on", False), (5.0, "on", True), (0.5, "on", False)]
    for minutes, (above_c, power, risky) in enumerate(steps, start=1):
        reading = msgspec.structs.replace(
            first,
            event_id=f"{first.event_id}-{minutes}",
            ts=first.ts + timedelta(minutes=minutes),
            supply_c=first.setpoint_c + above_c,
            power=power,
        )
        live.admit(reading, encode_event(reading))
        live.advance(to_micros(reading.ts))
        assert live.twin is not None
        yard = live.twin.yards[first.yard]
        box = yard.boxes[first.container_id]
        expected = risky or reefer_risk.waiting_for_plug(box)
        assert (first.container_id in yard.reefers_at_risk) == expected, (minutes, power)


@pytest.mark.parametrize("every", [1, 3])
def test_alerts_are_the_same_with_event_times_in_utc(every: int) -> None:
    events = perturbed(DAYS, {i * 37: (1.9, False) for i in range(40)})
    local, _ = run(events, 700)
    utc, _ = run(in_utc(events, every), 700)
    assert local.alerts
    assert local.alerts == utc.alerts

"""Reefer time to breach: the unpowered-warming law solved for the moment the estimated cargo
temperature leaves setpoint ± threshold, against numbers worked by hand.

Hand figures (k per hour, T_out outside air, T_0 the last supply reading, limit the band edge):
t = 60 · ln((T_out − T_0) / (T_out − limit)) / k minutes.
- frozen −18 °C, threshold 2 °C, limit −16 °C, 35 °C outside, k = 0.0067:
  ln(53 / 51) = 0.0384663, / 0.0067 = 5.74124 h = 344.47 min;
- chilled 2 °C, threshold 1 °C, limit 3 °C, 29 °C outside, k = 0.0054:
  ln(27 / 26) = 0.0377403, / 0.0054 = 6.98894 h = 419.34 min;
- durian 13 °C in 7 °C air: it cools to the lower edge 12 °C: ln(−6 / −5) = 0.182322,
  / 0.0054 = 33.7633 h = 2025.80 min.
"""

import dataclasses
from datetime import timedelta

import msgspec
import pytest

from corridor.engine.live_view import reefer_breaches
from corridor.engine.twin import Twin
from stations.reefers import Reading, ReeferMonitor
from stations.spec import ReeferSpec, StationSpec, load_all_stations
from tests.factories import T0, at, box_number, dispatch, reading


def reefer_spec(ambient_c: float) -> ReeferSpec:
    """Yuzui's rules (2 °C frozen, 1 °C chilled, k 0.0067 / 0.0054) under a constant sky."""
    spec = load_all_stations()["yuzui"].reefer
    assert (spec.threshold_frozen_c, spec.threshold_chilled_c) == (2.0, 1.0)
    assert (spec.warming_frozen_per_h, spec.warming_chilled_per_h) == (0.0067, 0.0054)
    return msgspec.structs.replace(spec, ambient_monthly_c=(ambient_c,) * 12)


def monitor_after(ambient_c: float, *readings: Reading) -> ReeferMonitor:
    monitor = ReeferMonitor("yuzui", "CSQU0000015", readings[0].setpoint_c, reefer_spec(ambient_c))
    for one in readings:
        monitor.observe(one)
    return monitor


def off(time: float, setpoint: float, supply: float) -> Reading:
    return Reading(time, setpoint, supply, supply + 1.0, False, ())


def on(time: float, setpoint: float, supply: float) -> Reading:
    return Reading(time, setpoint, supply, supply + 1.0, True, ())


def test_frozen_box_without_power_breaches_when_the_hand_worked_law_says() -> None:
    monitor = monitor_after(35.0, off(100.0, -18.0, -18.0))
    assert monitor.breach_at(35.0) == pytest.approx(100.0 + 344.47, abs=0.01)
    assert monitor.minutes_to_breach(100.0, 35.0) == pytest.approx(344.47, abs=0.01)
    assert monitor.minutes_to_breach(400.0, 35.0) == pytest.approx(44.47, abs=0.01)
    # and at that moment the estimate is at the band edge, -16 °C
    assert monitor.estimated_cargo_c(444.47, 35.0) == pytest.approx(-16.0, abs=0.001)


def test_chilled_box_and_a_box_cooling_to_its_lower_edge() -> None:
    chilled = monitor_after(29.0, off(0.0, 2.0, 2.0))
    assert chilled.minutes_to_breach(0.0, 29.0) == pytest.approx(419.34, abs=0.01)
    durian = monitor_after(7.0, off(0.0, 13.0, 13.0))
    assert durian.minutes_to_breach(60.0, 7.0) == pytest.approx(2025.80 - 60.0, abs=0.01)


def test_never_crosses_powered_or_when_the_air_is_inside_the_band() -> None:
    assert monitor_after(35.0, on(0.0, -18.0, -18.2)).minutes_to_breach(500.0, 35.0) is None
    # 2.5 °C air never warms a 2 °C box past 3 °C
    assert monitor_after(2.5, off(0.0, 2.0, 2.0)).minutes_to_breach(0.0, 2.5) is None
    # no reading yet: nothing to say
    empty = ReeferMonitor("yuzui", "CSQU0000015", -18.0, reefer_spec(35.0))
    assert empty.minutes_to_breach(0.0, 35.0) is None


def test_already_over_is_zero_powered_or_not() -> None:
    assert monitor_after(35.0, on(0.0, -18.0, -15.5)).minutes_to_breach(10.0, 35.0) == 0.0
    warmed = monitor_after(35.0, off(0.0, -18.0, -18.0))
    assert warmed.minutes_to_breach(344.48, 35.0) == 0.0
    assert warmed.minutes_to_breach(10_000.0, 35.0) == 0.0


def test_power_back_on_stops_the_clock() -> None:
    monitor = monitor_after(35.0, off(0.0, -18.0, -18.0), on(60.0, -18.0, -17.5))
    assert monitor.minutes_to_breach(120.0, 35.0) is None


def test_waiting_for_a_plug_warms_from_the_later_of_the_wait_and_the_last_reading() -> None:
    monitor = monitor_after(35.0, on(0.0, -18.0, -18.0))
    assert monitor.breach_at(35.0, plug_wait_since=30.0) == pytest.approx(30.0 + 344.47, abs=0.01)
    assert monitor.breach_at(35.0, plug_wait_since=-30.0) == pytest.approx(344.47, abs=0.01)


def hot_yuzui(plugs: int = 20) -> dict[str, StationSpec]:
    spec = load_all_stations()["yuzui"]
    stack = msgspec.structs.replace(spec.stack, reefer_plugs=plugs)
    return {"yuzui": dataclasses.replace(spec, reefer=reefer_spec(35.0), stack=stack)}


def test_the_live_view_gives_each_reefer_its_time_to_breach() -> None:
    frozen, fine = box_number(1), box_number(2)
    twin = Twin(hot_yuzui(), seed=1)
    for n, container in ((1, frozen), (2, fine)):
        event = dispatch(n, ts=0.0, eta=5.0, iso_type="45R1", container=container, setpoint_c=-18)
        assert twin.apply(event) is None
    assert twin.apply(reading(frozen, ts=100.0, setpoint=-18.0, supply=-18.0, power="off")) is None
    assert twin.apply(reading(fine, ts=100.0, setpoint=-18.0, supply=-18.1)) is None
    twin.advance_to(at(400.0))
    statuses = {status.container_id: status for status in twin.reefers("yuzui")}
    assert statuses[frozen].minutes_to_breach == pytest.approx(44.5, abs=0.05)
    assert statuses[frozen].breach_at == pytest.approx(
        T0 + timedelta(minutes=444.47), abs=timedelta(seconds=1)
    )
    assert statuses[fine].minutes_to_breach is None
    assert statuses[fine].breach_at is None
    assert twin.epoch is not None
    [breach] = reefer_breaches(twin.yards["yuzui"], twin.epoch)
    assert breach.container_id == frozen
    assert breach.course_start == 100.0


def test_a_stacked_reefer_without_a_plug_is_counted_unpowered() -> None:
    first, second = box_number(3), box_number(4)
    twin = Twin(hot_yuzui(plugs=1), seed=1)
    for n, container in ((3, first), (4, second)):
        event = dispatch(n, ts=0.0, eta=5.0, iso_type="45R1", container=container, setpoint_c=-18)
        assert twin.apply(event) is None
    for container in (first, second):
        assert twin.apply(reading(container, ts=60.0, setpoint=-18.0, supply=-18.0)) is None
    twin.advance_to(at(300.0))
    statuses = twin.reefers("yuzui")
    waiting = [status for status in statuses if not status.plugged]
    plugged = [status for status in statuses if status.plugged]
    assert len(waiting) == 1
    assert len(plugged) == 1
    assert plugged[0].minutes_to_breach is None
    # warming since the reading at 60 min: the hand-worked 344.47 min less 240
    assert waiting[0].minutes_to_breach == pytest.approx(104.5, abs=0.05)
    assert waiting[0].estimated_cargo_c is not None
    assert waiting[0].estimated_cargo_c > -18.0

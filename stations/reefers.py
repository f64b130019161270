"""Reefer telemetry: a box's thermal state and its excursions.

A reefer controller reports supply and return air temperatures against its setpoint. An
excursion starts when |supply - setpoint| stays above the threshold (2 °C frozen, 1 °C chilled
by default) for a minimum duration, and is cleared only once the deviation falls below the
threshold minus a hysteresis, so a reading that hovers at the edge does not flap. Power-off
spans are tracked separately. Without power a box warms towards the outside air at
k × (T_outside − T_inside) per hour (DOMAIN.md), which gives the estimated cargo temperature.
"""

import math
from typing import NamedTuple

from stations.records import NOT_YET, ReeferExcursion
from stations.spec import ReeferSpec
from stations.types import MINUTES_PER_HOUR, Minutes


class Reading(NamedTuple):
    """One telemetry reading, at model time `time` (a tuple: millions are made in a year)."""

    time: Minutes
    setpoint_c: float
    supply_c: float
    return_c: float
    power_on: bool
    alarms: tuple[str, ...]


class ReeferMonitor:
    """The thermal state of one reefer in one yard, fed by its readings."""

    __slots__ = (
        "_above_since",
        "_excursion_since",
        "_peak",
        "container_id",
        "last",
        "off_since",
        "setpoint_c",
        "spec",
        "yard",
    )

    def __init__(self, yard: str, container_id: str, setpoint_c: float, spec: ReeferSpec) -> None:
        self.yard = yard
        self.container_id = container_id
        self.setpoint_c = setpoint_c
        self.spec = spec
        self.last: Reading | None = None
        self.off_since: Minutes | None = None
        self._above_since: Minutes | None = None
        self._excursion_since: Minutes | None = None
        self._peak = 0.0

    @property
    def in_excursion(self) -> bool:
        return self._excursion_since is not None

    @property
    def excursion_since(self) -> Minutes | None:
        return self._excursion_since

    def threshold_c(self, setpoint_c: float) -> float:
        """The allowed deviation: tighter for chilled cargo than for frozen."""
        frozen = setpoint_c < self.spec.frozen_below_c
        return self.spec.threshold_frozen_c if frozen else self.spec.threshold_chilled_c

    def observe(self, reading: Reading) -> tuple[ReeferExcursion, ...]:
        """Update the state with a reading; returns the excursions it closed (mostly none)."""
        self.setpoint_c = reading.setpoint_c
        self.last = reading
        power_off = self._track_power(reading)
        temperature = self._track_temperature(reading)
        if power_off is None:
            return () if temperature is None else (temperature,)
        return (power_off,) if temperature is None else (power_off, temperature)

    def close(self, now: Minutes) -> list[ReeferExcursion]:
        """The box leaves the yard: end whatever is open at `now`."""
        return self._end_open(now)

    def open_excursions(self) -> list[ReeferExcursion]:
        """Excursions still open, with no end; the state is left as it is."""
        still_open = []
        if self.off_since is not None:
            still_open.append(self._record("power_off", self.off_since, NOT_YET, math.nan))
        if self._excursion_since is not None:
            still_open.append(
                self._record("temperature", self._excursion_since, NOT_YET, self._peak)
            )
        return still_open

    def estimated_cargo_c(self, now: Minutes, ambient_c: float) -> float:
        """Supply temperature now, warmed towards `ambient_c` (the month's mean air) by the
        unpowered-warming law while power is off."""
        if self.last is None:
            return math.nan
        if self.off_since is None:
            return self.last.supply_c
        frozen = self.setpoint_c < self.spec.frozen_below_c
        rate = self.spec.warming_frozen_per_h if frozen else self.spec.warming_chilled_per_h
        hours = max(0.0, now - self.last.time) / MINUTES_PER_HOUR
        gap = ambient_c - self.last.supply_c
        return ambient_c - gap * math.exp(-rate * hours)

    def _track_power(self, reading: Reading) -> ReeferExcursion | None:
        """The power-off span this reading ends, if any."""
        if not reading.power_on:
            if self.off_since is None:
                self.off_since = reading.time
            return None
        if self.off_since is None:
            return None
        span = self._record("power_off", self.off_since, reading.time, math.nan)
        self.off_since = None
        return span

    def _track_temperature(self, reading: Reading) -> ReeferExcursion | None:
        """The temperature excursion this reading clears, if any."""
        deviation = abs(reading.supply_c - reading.setpoint_c)
        threshold = self.threshold_c(reading.setpoint_c)
        if self._excursion_since is not None:
            self._peak = max(self._peak, deviation)
            if deviation < threshold - self.spec.hysteresis_c:
                ended = self._record("temperature", self._excursion_since, reading.time, self._peak)
                self._excursion_since = None
                self._above_since = None
                return ended
            return None
        if deviation <= threshold:
            self._above_since = None
            return None
        if self._above_since is None:
            self._above_since = reading.time
            self._peak = deviation
        self._peak = max(self._peak, deviation)
        if reading.time - self._above_since >= self.spec.min_duration_min:
            self._excursion_since = self._above_since
        return None

    def _end_open(self, end: Minutes) -> list[ReeferExcursion]:
        ended = []
        if self.off_since is not None:
            ended.append(self._record("power_off", self.off_since, end, math.nan))
            self.off_since = None
        if self._excursion_since is not None:
            ended.append(self._record("temperature", self._excursion_since, end, self._peak))
            self._excursion_since = None
        return ended

    def _record(self, kind: str, start: Minutes, end: Minutes, peak: float) -> ReeferExcursion:
        return ReeferExcursion(self.yard, self.container_id, kind, start, end, peak)

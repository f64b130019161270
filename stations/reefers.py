"""Reefer telemetry: a box's thermal state and its excursions.

A reefer controller reports supply and return air temperatures against its setpoint. An
excursion starts when |supply - setpoint| stays above the threshold (2 °C frozen, 1 °C chilled
by default) for a minimum duration, and is cleared only once the deviation falls below the
threshold minus a hysteresis, so a reading that hovers at the edge does not flap. Power-off
spans are tracked separately. Without power a box warms towards the outside air at
k × (T_outside − T_inside) per hour (DOMAIN.md), which gives the estimated cargo temperature;
a box the yard has stacked without a plug (waiting for one) warms the same way. Solving that law
for the moment the estimate leaves the band (setpoint ± threshold) gives its time to breach.
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


class Course(NamedTuple):
    """The estimate's course since `start`: `start_c` then, drifting towards the outside air
    at `rate_per_h` × (T_outside − T) per hour (0: powered, it holds `start_c`)."""

    start: Minutes
    start_c: float
    rate_per_h: float


def warmed_c(start_c: float, ambient_c: float, rate_per_h: float, minutes: float) -> float:
    """The law solved: T(t) = T_out − (T_out − T_0) exp(−k t), t in hours (never negative)."""
    hours = max(0.0, minutes) / MINUTES_PER_HOUR
    return ambient_c - (ambient_c - start_c) * math.exp(-rate_per_h * hours)


def breach_instant(
    course: Course, setpoint_c: float, threshold_c: float, ambient_c: float
) -> Minutes | None:
    """When T(t) reaches the band edge it drifts towards, setpoint ± threshold: the course's
    start when it starts over the edge; None when it never gets there (powered, or the outside
    air lies inside the band). From T(t) = limit: t = ln((T_out − T_0) / (T_out − limit)) / k."""
    if abs(course.start_c - setpoint_c) >= threshold_c:
        return course.start
    if course.rate_per_h <= 0.0 or abs(ambient_c - setpoint_c) <= threshold_c:
        return None
    limit = setpoint_c + math.copysign(threshold_c, ambient_c - setpoint_c)
    hours = math.log((ambient_c - course.start_c) / (ambient_c - limit)) / course.rate_per_h
    return course.start + hours * MINUTES_PER_HOUR


class ReeferMonitor:
    """The thermal state of one reefer in one yard, fed by its readings."""

    __slots__ = (
        "_above_since",
        "_excursion_since",
        "_peak",
        "container_id",
        "in_band",
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
        # the last reading's supply air within setpoint ± threshold (False before one): kept
        # by `observe`, so a yard tells a reefer at risk without working it out again
        # (`stations.reefer_risk`); `settle` sets it for a monitor given its state directly
        self.in_band = False
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

    def estimated_cargo_c(
        self, now: Minutes, ambient_c: float, plug_wait_since: Minutes | None = None
    ) -> float:
        """Supply temperature now, warmed towards `ambient_c` (the month's mean air) by the
        unpowered-warming law while power is off or the box waits for a plug (`course`)."""
        course = self.course(plug_wait_since)
        if course is None:
            return math.nan
        return warmed_c(course.start_c, ambient_c, course.rate_per_h, now - course.start)

    def course(self, plug_wait_since: Minutes | None = None) -> Course | None:
        """Where the estimate starts and how fast it drifts: from the last reading, warming
        while the telemetry reports power off, or while the yard has the box waiting for a
        plug (`plug_wait_since`, the start of the wait; a later reading restarts the course);
        otherwise powered and holding its supply temperature. None before the first reading."""
        last = self.last
        if last is None:
            return None
        frozen = self.setpoint_c < self.spec.frozen_below_c
        rate = self.spec.warming_frozen_per_h if frozen else self.spec.warming_chilled_per_h
        if self.off_since is not None:
            return Course(last.time, last.supply_c, rate)
        if plug_wait_since is not None:
            return Course(max(plug_wait_since, last.time), last.supply_c, rate)
        return Course(last.time, last.supply_c, 0.0)

    def breach_at(self, ambient_c: float, plug_wait_since: Minutes | None = None) -> Minutes | None:
        """When the estimated cargo temperature leaves setpoint ± threshold on its present
        course (`breach_instant`); None if it never does."""
        course = self.course(plug_wait_since)
        if course is None:
            return None
        return breach_instant(course, self.setpoint_c, self.threshold_c(self.setpoint_c), ambient_c)

    def minutes_to_breach(
        self, now: Minutes, ambient_c: float, plug_wait_since: Minutes | None = None
    ) -> float | None:
        """Minutes from `now` to the breach: 0 when already over, None when never."""
        breach = self.breach_at(ambient_c, plug_wait_since)
        return None if breach is None else max(0.0, breach - now)

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

    def settle(self) -> None:
        """Work `in_band` out from the last reading (a monitor restored field by field)."""
        last = self.last
        self.in_band = last is not None and abs(last.supply_c - last.setpoint_c) < self.threshold_c(
            last.setpoint_c
        )

    def _track_temperature(self, reading: Reading) -> ReeferExcursion | None:
        """The temperature excursion this reading clears, if any."""
        deviation = abs(reading.supply_c - reading.setpoint_c)
        threshold = self.threshold_c(reading.setpoint_c)
        self.in_band = deviation < threshold
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

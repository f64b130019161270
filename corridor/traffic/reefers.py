"""Synthetic reefer telemetry: what a yard's remote monitoring reports while a box is stacked.

A reefer reports every `traffic.reading_interval_min` while it is surely in the yard (the
window is chosen by the caller). Normally the supply air sits near the setpoint and the return
air is a little warmer. About 2 % of reefers lose power for 20-180 min: the box then reports
power "off" and warms by the empirical law in DOMAIN.md, dT/dt = k (T_outside - T_inside),
i.e. T(t) = T_out - (T_out - T_0) exp(-k t), with T_out the month's mean air temperature
(`reefer.ambient_monthly_c`, in the yard's local calendar). About 2 % have a temperature
excursion: supply more than 3 °C above setpoint for 20-60 min, with alarm code AL20. So the
twin's excursion logic has something to find.
"""

from dataclasses import dataclass

import numpy as np

from corridor.traffic.draws import Bools
from corridor.traffic.timebase import (
    MS_PER_DAY,
    MS_PER_HOUR,
    MS_PER_MINUTE,
    Floats,
    Instants,
    Ints,
)
from stations.spec import ReeferSpec

EPISODE_SHARE = 0.02
OFF_MIN = (20.0, 180.0)
EXCURSION_MIN = (20.0, 60.0)
EXCURSION_ABOVE_C = (3.5, 5.0)  # supply this far above setpoint: strictly more than 3 °C
NOISE_SD_C = 0.2
RETURN_ABOVE_C = (0.8, 2.5)
EXCURSION_ALARM = "AL20"


@dataclass(frozen=True, slots=True)
class Readings:
    """Readings as columns; `box` indexes the caller's boxes (whose windows were given)."""

    box: Ints
    ms: Ints
    supply_c: Floats
    return_c: Floats
    off: Bools
    alarm: Bools


@dataclass(frozen=True, slots=True)
class Windows:
    """When each reefer is surely in the yard: [start_ms, end_ms], and its setpoint."""

    box: Ints
    start_ms: Ints
    end_ms: Ints
    setpoint_c: Floats


def reefer_readings(
    windows: Windows,
    *,
    interval_min: float,
    reefer: ReeferSpec,
    rng: np.random.Generator,
    period_end_ms: int,
    instants: Instants,
) -> Readings:
    """Every reading in the windows (on a grid from each window's start) before the period end.

    The whole window is drawn even past the period end, so a longer run draws the same
    values for the days both runs share.
    """
    interval = round(interval_min * MS_PER_MINUTE)
    counts = np.maximum((windows.end_ms - windows.start_ms) // interval + 1, 0)
    group = np.repeat(np.arange(len(counts)), counts)
    first = np.cumsum(counts) - counts
    ms = windows.start_ms[group] + (np.arange(len(group)) - first[group]) * interval
    off_from, off_to, exc_from, exc_to = _episodes(windows.start_ms, counts, interval, rng)
    setpoint = windows.setpoint_c[group]
    noise = rng.standard_normal(len(ms)) * NOISE_SD_C
    gap = rng.uniform(*RETURN_ABOVE_C, len(ms))
    above = rng.uniform(*EXCURSION_ABOVE_C, len(ms))
    off = (ms >= off_from[group]) & (ms <= off_to[group])
    excursion = (ms >= exc_from[group]) & (ms <= exc_to[group]) & ~off
    supply = np.where(excursion, setpoint + above, setpoint + noise)
    supply_back = np.where(excursion, supply + RETURN_ABOVE_C[1], supply + gap)
    ambient = _ambient_c(ms, reefer, instants)
    unpowered = _unpowered(setpoint, (ms - off_from[group]) / MS_PER_HOUR, reefer, ambient)
    keep = ms < period_end_ms
    return Readings(
        box=windows.box[group][keep],
        ms=ms[keep],
        supply_c=np.round(np.where(off, unpowered, supply), 1)[keep],
        return_c=np.round(np.where(off, unpowered + 0.2, supply_back), 1)[keep],
        off=off[keep],
        alarm=excursion[keep],
    )


def _episodes(
    start_ms: Ints, counts: Ints, interval: int, rng: np.random.Generator
) -> tuple[Floats, Floats, Floats, Floats]:
    """Per reefer: [from, to] of a power-off and of an excursion (empty when it has none).

    Each episode starts on one of the reefer's reading instants, so it is seen.
    """
    u = rng.random((len(counts), 6))
    never = np.full(len(counts), np.inf)
    spans = []
    for (pick, where, length), (low, high) in (((0, 1, 2), OFF_MIN), ((3, 4, 5), EXCURSION_MIN)):
        chosen = (u[:, pick] < EPISODE_SHARE) & (counts > 0)
        begin = start_ms + np.floor(u[:, where] * counts) * interval
        end = begin + (low + u[:, length] * (high - low)) * MS_PER_MINUTE
        spans += [np.where(chosen, begin, never), np.where(chosen, end, -never)]
    return spans[0], spans[1], spans[2], spans[3]


def _ambient_c(ms: Ints, reefer: ReeferSpec, instants: Instants) -> Floats:
    """The mean air temperature of the local calendar month of each instant."""
    days = (ms + instants.local_ms0) // MS_PER_DAY
    unique, inverse = np.unique(days, return_inverse=True)
    by_day = [reefer.ambient_c(instants.local_date(int(day)).month) for day in unique.tolist()]
    return np.asarray(by_day, dtype=np.float64)[inverse]


def _unpowered(
    setpoint: Floats, hours_off: Floats, reefer: ReeferSpec, ambient_c: Floats
) -> Floats:
    """Inside temperature of an unpowered box after `hours_off` (DOMAIN.md warming law)."""
    frozen = setpoint < reefer.frozen_below_c
    rate = np.where(frozen, reefer.warming_frozen_per_h, reefer.warming_chilled_per_h)
    elapsed = np.clip(hours_off, 0.0, None)
    return ambient_c - (ambient_c - setpoint) * np.exp(-rate * elapsed)

"""Reefer KPIs: telemetry received, and the time reefers spent out of band or without power.

An excursion (`reefer_excursions`) is either kind "temperature" (supply air outside the band
for at least the minimum duration) or kind "power_off" (the box unplugged, warming). An
excursion still open when the run ended has no `end`; inside a window it runs to the window's
end. Readings are not records of the model: the caller passes the count per yard.
"""

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from corridor.kpis.frames import Table, Window
from corridor.kpis.result import ReeferKpis
from corridor.kpis.stats import figure

KINDS = ("temperature", "power_off")


def reefer(
    excursions: Table, readings: Mapping[str, int], yards: Sequence[str], window: Window
) -> list[ReeferKpis]:
    """Reefer KPIs over the window.

    - readings: `reefer.reading` events for the yard (given by the caller; corridor: the sum);
    - excursions: temperature excursions whose `start` is in the window;
    - excursion_minutes: minutes of temperature excursions inside the window (from `start`, or
      the window's start, to `end`, or the window's end);
    - max_off_power_min: the longest power_off excursion inside the window, clipped to it, in
      minutes; 0 when there is none (corridor: the longest of any yard).
    """
    counts = _readings(readings, yards)
    kind = {label: excursions.equals("kind", label) for label in KINDS}
    _check_kinds(excursions, kind)
    every = np.ones(len(excursions.frame), dtype=np.bool_)
    start = excursions.known_times("start", every, "in the table")
    inside = window.overlap(start, excursions.floats("end"))
    temperature = kind["temperature"]
    started = excursions.scoped_counts(temperature & window.holds(start))
    minutes = excursions.scoped_sums(inside, temperature)
    off = excursions.scoped(inside, kind["power_off"])
    return [
        ReeferKpis(
            readings=count,
            excursions=excursion_count,
            excursion_minutes=figure(spent),
            max_off_power_min=figure(float(longest.max(initial=0.0))),
        )
        for count, excursion_count, spent, longest in zip(
            counts, started, minutes, off, strict=True
        )
    ]


def _readings(readings: Mapping[str, int], yards: Sequence[str]) -> list[int]:
    """Readings per yard (a yard not in the mapping had none), then their sum."""
    unknown = sorted(set(readings) - set(yards))
    if unknown:
        raise ValueError(f"reefer_readings: unknown yard(s) {', '.join(unknown)}")
    counts = []
    for yard in yards:
        count = readings.get(yard, 0)
        if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 0:
            raise ValueError(f"reefer_readings[{yard!r}]: expected a count >= 0, got {count!r}")
        counts.append(int(count))
    return [*counts, sum(counts)]


def _check_kinds(excursions: Table, kind: dict[str, Any]) -> None:
    """Every excursion is of a known kind: none may be left out of the figures."""
    neither = ~(kind["temperature"] | kind["power_off"])
    if neither.any():
        labels = sorted({str(label) for label in excursions.frame["kind"][neither].unique()})
        raise ValueError(
            f"reefer_excursions.kind: {int(neither.sum())} rows with unknown value(s) "
            f"{', '.join(labels)}; known: {', '.join(KINDS)}"
        )

"""Reefer KPIs: telemetry received, and the time reefers spent out of band or without power.

An excursion (`reefer_excursions`) is either kind "temperature" (supply air outside the band
for at least the minimum duration) or kind "power_off" (the box unplugged, warming). An
excursion still open when the run ended has no `end`; inside a window it runs to the window's
end. A reading (`reefer_readings`) is counted in the window that holds its `time`, the model
time it was applied at, so adjacent windows never count one twice: a replay `--until T` and the
live twin's snapshot at T count the same readings, those before T.
"""

from typing import Any

import numpy as np

from corridor.kpis.frames import Table, Window
from corridor.kpis.result import ReeferKpis
from corridor.kpis.stats import figure

KINDS = ("temperature", "power_off")


def reefer(excursions: Table, readings: Table, window: Window) -> list[ReeferKpis]:
    """Reefer KPIs over the window.

    - readings: readings applied (`reefer_readings`) whose `time` is in the window;
    - excursions: temperature excursions whose `start` is in the window;
    - excursion_minutes: minutes of temperature excursions inside the window (from `start`, or
      the window's start, to `end`, or the window's end);
    - max_off_power_min: the longest power_off excursion inside the window, clipped to it, in
      minutes; 0 when there is none (corridor: the longest of any yard).
    """
    counts, started, minutes, off = reefer_parts(excursions, readings, window)
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


def reefer_parts(excursions: Table, readings: Table, window: Window) -> tuple[Any, Any, Any, Any]:
    """Per scope: readings counted, temperature excursions started, their minutes inside the
    window, and the power-off excursions' minutes inside it (`reefer`'s figures, unrounded;
    the live twin's mergeable partials take the same, `corridor.kpis.partials`): made once
    per pair of tables and window (`Table.memo`), for both."""
    return excursions.memo(
        ("reefer parts", id(readings), window), lambda: _reefer_parts(excursions, readings, window)
    )


def _reefer_parts(excursions: Table, readings: Table, window: Window) -> tuple[Any, Any, Any, Any]:
    counts = readings.scoped_counts(window.holds(readings.floats("time")))
    kind = {label: excursions.equals("kind", label) for label in KINDS}
    _check_kinds(excursions, kind)
    every = np.ones(excursions.rows, dtype=np.bool_)
    start = excursions.known_times("start", every, "in the table")
    inside = window.overlap(start, excursions.floats("end"))
    temperature = kind["temperature"]
    started = excursions.scoped_counts(temperature & window.holds(start))
    minutes = excursions.scoped_sums(inside, temperature)
    off = excursions.scoped(inside, kind["power_off"])
    return counts, started, minutes, off


def _check_kinds(excursions: Table, kind: dict[str, Any]) -> None:
    """Every excursion is of a known kind: none may be left out of the figures."""
    neither = ~(kind["temperature"] | kind["power_off"])
    if neither.any():
        labels = sorted({str(label) for label in excursions.frame["kind"][neither].unique()})
        raise ValueError(
            f"reefer_excursions.kind: {int(neither.sum())} rows with unknown value(s) "
            f"{', '.join(labels)}; known: {', '.join(KINDS)}"
        )

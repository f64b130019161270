"""*Tally* KPIs: one number per truck, box or lift that passed, counted in the window.

Each KPI counts a record when its *end event* falls in the window `[start, end)` (a truck that
left, a box that left, a lift that finished), so a record is counted in exactly one window of a
series of adjacent windows; its duration runs from its *start event*, which may lie before the
window. Every function returns one value per yard (scenario order), then the corridor's, which
pools the records of all yards (corridor percentiles are over the union, not means of yards).
A record whose end event is in the window but whose start event is missing is a data error.
Box dwell, which also counts the boxes still in the yard, is in `corridor.kpis.dwell`.
"""

import numpy as np

from corridor.kpis.frames import Table, Window
from corridor.kpis.result import Tally, Throughput
from corridor.kpis.stats import figure, summary


def trucks(visits: Table, window: Window) -> list[int]:
    """Trucks: truck visits (`truck_visits`) whose `departed` (out-gate) is in the window."""
    return visits.scoped_counts(window.holds(visits.floats("departed")))


def truck_turn_min(visits: Table, window: Window) -> list[Tally]:
    """Truck turnaround, minutes: `departed` - `arrived` (at the gate queue), for trucks counted
    by `trucks` (departed in the window)."""
    return _durations(visits, "arrived", "departed", window)


def gate_wait_min(visits: Table, window: Window) -> list[Tally]:
    """Gate wait, minutes: `gate_start` (a lane starts serving) - `arrived`, for truck visits
    whose `gate_start` is in the window."""
    return _durations(visits, "arrived", "gate_start", window)


def throughput(boxes: Table, lifts: Table, window: Window) -> list[Throughput]:
    """Throughput over the window.

    - teu_in: TEU of box visits whose `entered` is in the window;
    - teu_out: TEU of box visits whose `left` is in the window;
    - lifts: lifts (`lifts`) whose `end` is in the window;
    - teu_per_day: (teu_in + teu_out) / window length in days.
    """
    teu = boxes.ints("teu").astype(np.float64)
    teu_in = boxes.scoped_sums(teu, window.holds(boxes.floats("entered")))
    teu_out = boxes.scoped_sums(teu, window.holds(boxes.floats("left")))
    moves = lifts.scoped_counts(window.holds(lifts.floats("end")))
    return [
        Throughput(
            teu_in=int(entered),
            teu_out=int(left),
            lifts=count,
            teu_per_day=figure((entered + left) / window.days),
        )
        for entered, left, count in zip(teu_in, teu_out, moves, strict=True)
    ]


def _durations(visits: Table, begin: str, finish: str, window: Window) -> list[Tally]:
    """Summaries of `finish` - `begin` for the records whose `finish` is in the window."""
    ends = visits.floats(finish)
    rows = window.holds(ends)
    starts = visits.known_times(begin, rows, f"with {finish} in the window")
    return [summary(values) for values in visits.scoped(ends - starts, rows)]

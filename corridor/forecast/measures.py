"""What a forecast measures in one run of the twin, hour by hour after `now`.

The same function reads a forecast replication and, in a backtest, the twin that replayed what
really came, so both are measured alike. Per yard and hour h (the hour [now + h, now + h + 1)):

- `gate_queue`: trucks waiting at the gate, time-weighted mean over the hour (level
  `gate_queue`, smart and manual lanes together);
- `turnaround_min`: the mean time from reaching the gate queue to leaving through the out-gate
  of the trucks that reached it in the hour (NaN: no truck came, or none has left yet);
- `plugs_in_use`: reefer plugs in use, time-weighted mean over the hour.

At the end of the horizon: `boxes_over_24h`, boxes in the yard that entered it more than 24 h
before (and the same count at the end of every hour, `boxes_over_24h_by_hour`, so that the
first h hours of a longer forecast are a forecast of h hours); and for each export train due to
leave in the horizon, whether it left late (its loading, which starts at the cut-off, ran past
the scheduled departure) or not at all, with its scheduled departure (`trains_due`).
"""

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from stations.levels import LevelSeries
from stations.types import Minutes
from stations.yard import Yard

Floats = npt.NDArray[np.float64]
HOURLY = ("gate_queue", "turnaround_min", "plugs_in_use")
DAY_MIN = 1440.0
LATE_AFTER_MIN = 1.0  # a departure this much after its schedule counts as late


@dataclass(frozen=True, slots=True)
class YardOutcome:
    """One run's figures for one yard: hourly series, the end count, trains that left late."""

    hourly: dict[str, list[float]]  # HOURLY name -> one value per hour (NaN: none)
    boxes_over_24h: int
    trains_late: dict[str, bool]  # train id -> left late or not at all, for trains due
    boxes_over_24h_by_hour: list[int] = field(default_factory=list)  # at each hour's end
    trains_due: dict[str, float] = field(default_factory=dict)  # train id -> due, min after now


def hour_edges(now: Minutes, hours: int) -> Floats:
    """The hours' bounds in model minutes: now, now + 60, ..., now + 60 * hours."""
    return now + 60.0 * np.arange(hours + 1, dtype=np.float64)


def boxes_over_24h(yard: Yard, at: Minutes) -> int:
    """Boxes in the yard that entered more than 24 h before `at` (the clock standing at `at`)."""
    return sum(1 for box in yard.boxes.values() if box.entered <= at - DAY_MIN)


def boxes_over_24h_by_hour(yard: Yard, edges: Floats) -> list[int]:
    """`boxes_over_24h` at each hour's end (edges[1:]), read after the run from the box records
    and the boxes still in the yard: a box counts at `at` if it entered by `at` - 24 h and had
    not left before `at` (one leaving at `at` has not left, as with the clock standing there)."""
    ends = edges[1:]
    counts = np.zeros(len(ends), dtype=np.int64)
    low = float(edges[0])
    for visit in reversed(yard.records.box_visits):  # newest last: stop long before the horizon
        if visit.left < low:
            break
        counts += (visit.entered <= ends - DAY_MIN) & (visit.left >= ends)
    for box in yard.boxes.values():
        counts += box.entered <= ends - DAY_MIN
    return [int(count) for count in counts]


def trains_due(yard: Yard, start: Minutes, end: Minutes) -> dict[str, float]:
    """Export trains scheduled to leave in [start, end): their departure, minutes after `start`."""
    return {
        plan.train_id: plan.departure - start
        for plan in yard.railway.known.values()
        if start <= plan.departure < end
    }


def hourly(yard: Yard, edges: Floats) -> dict[str, list[float]]:
    """The `HOURLY` series of one yard between the edges."""
    return {
        "gate_queue": time_weighted(yard.levels["gate_queue"], edges).tolist(),
        "turnaround_min": _turnaround(yard, edges).tolist(),
        "plugs_in_use": time_weighted(yard.levels["plugs_in_use"], edges).tolist(),
    }


def trains_late(yard: Yard, start: Minutes, end: Minutes) -> dict[str, bool]:
    """Export trains scheduled to leave in [start, end): True when they left late or not yet."""
    left = {
        visit.train_id: visit.departed
        for visit in yard.records.train_visits
        if visit.direction == "export"
    }
    late: dict[str, bool] = {}
    for plan in yard.railway.known.values():
        if start <= plan.departure < end:
            departed = left.get(plan.train_id, math.nan)
            late[plan.train_id] = not departed <= plan.departure + LATE_AFTER_MIN
    return late


def time_weighted(series: LevelSeries, edges: Floats) -> Floats:
    """The step function's mean over each interval between consecutive edges."""
    times = np.frombuffer(series.times, dtype=np.float64)
    values = np.frombuffer(series.values, dtype=np.float64)
    first = max(int(np.searchsorted(times, edges[0], side="right")) - 1, 0)
    times, values = times[first:], values[first:]
    inside = times[(times > edges[0]) & (times < edges[-1])]
    cuts = np.union1d(edges, inside)
    held = values[np.maximum(np.searchsorted(times, cuts[:-1], side="right") - 1, 0)]
    area = np.concatenate(([0.0], np.cumsum(held * np.diff(cuts))))
    at_edges = area[np.searchsorted(cuts, edges)]
    result: Floats = np.diff(at_edges) / np.diff(edges)
    return result


def _turnaround(yard: Yard, edges: Floats) -> Floats:
    visits = yard.records.truck_visits
    low, high = float(edges[0]), float(edges[-1])
    sums = np.zeros(len(edges) - 1)
    counts = np.zeros(len(edges) - 1)
    for visit in reversed(visits):  # recent ones last: stop at the first long before the horizon
        if visit.departed < low:
            break
        if low <= visit.arrived < high and visit.departed == visit.departed:
            hour = int((visit.arrived - low) // 60.0)
            sums[hour] += visit.departed - visit.arrived
            counts[hour] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        means: Floats = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return means

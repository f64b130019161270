"""Time-weighted statistics of step functions: the arithmetic behind every *level* KPI.

A level (a gate queue's length, the TEU in the stack) is recorded as the points where it
changed. Between points it is a step function: each point's value holds until the series' next
point, the last one until the window ends. Before a series' first point the level is 0 (every
level counts something that was not there before the epoch). Over a window `[start, end)`:

- the time-weighted mean is the integral of the step function over the window divided by the
  window's length (so a window that starts between two points takes the value of the last point
  at or before its start);
- the max is the largest value the function holds for a positive time inside the window (a
  value replaced at the same moment it was set never counts).

Series are identified by an integer key. Only the points that matter in a window are read (by
binary search per series), so a short window over a year of levels costs little.
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from corridor.kpis.frames import Floats, Indices, Window


@dataclass(frozen=True, slots=True)
class StepSeries:
    """Many step functions as points: each series a contiguous, time-ordered run of rows.

    `bounds[key]` is the row range `[lo, hi)` of series `key` (empty when it has no points).
    """

    time: Floats
    value: Floats
    bounds: NDArray[np.intp]

    def has(self, key: int) -> bool:
        lo, hi = self.bounds[key]
        return bool(hi > lo)

    def in_window(self, key: int, window: Window) -> tuple[Floats, Floats]:
        """The points of a series that shape it in the window: the last one at or before the
        start (if any), then every one before the end."""
        lo, hi = self.bounds[key].tolist()
        time = self.time[lo:hi]
        first = max(int(time.searchsorted(window.start, side="right")) - 1, 0)
        last = int(time.searchsorted(window.end, side="left"))
        return time[first:last], self.value[lo + first : lo + last]


def step_series(key: Indices, time: Floats, value: Floats, n_keys: int) -> StepSeries:
    """Group points into series (sorting them only when they are not already grouped)."""
    order = _grouping_order(key, time)
    if order is not None:
        key, time, value = key[order], time[order], value[order]
    bounds = np.zeros((n_keys, 2), dtype=np.intp)
    if key.size:
        starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
        ends = np.append(starts[1:], key.size)
        bounds[key[starts]] = np.column_stack((starts, ends))
    return StepSeries(time=time, value=value, bounds=bounds)


def step_stats(time: Floats, value: Floats, window: Window) -> tuple[float, float]:
    """Time-weighted mean and max over the window of one series' points (`in_window`'s)."""
    if time.size == 0:
        return 0.0, 0.0  # every point comes after the window: the level is still 0
    # numpy's ufuncs called as such: a live snapshot makes some 60 of these on short series,
    # where `np.append` and the array methods' wrappers cost more than the arithmetic
    following = np.empty_like(time)
    following[:-1] = time[1:]
    following[-1] = window.end
    held = np.minimum(following, window.end) - np.maximum(time, window.start)
    np.maximum(held, 0.0, out=held)
    mean = float(np.add.reduce(value * held)) / window.minutes
    peak = float(np.maximum.reduce(value[held > 0], initial=-np.inf))
    if time[0] > window.start:
        peak = max(peak, 0.0)  # the 0 before the first point is inside the window
    return mean, peak


def summed(parts: list[tuple[Floats, Floats]], window: Window) -> tuple[Floats, Floats]:
    """The sum of several series (each as `in_window` gives it) as one series of points.

    The result has a point at the window's start (the sum of the values there) and one for
    every change of a series inside the window; several changes at one moment give several
    points at that moment, of which only the last is held for any time.
    """
    moments, changes = [np.array([window.start])], [np.array([0.0])]
    for time, value in parts:
        previous = np.concatenate(([0.0], value[:-1]))
        at_start = time <= window.start  # only a series' first point can be
        changes[0] += value[at_start].sum()
        moments.append(time[~at_start])
        changes.append((value - previous)[~at_start])
    when, steps = np.concatenate(moments), np.concatenate(changes)
    order = np.argsort(when, kind="stable")
    return when[order], np.cumsum(steps[order])  # a point replaced at once is held for no time


def _grouping_order(key: Indices, time: Floats) -> Indices | None:
    """A permutation putting each series' points together in time order; None: already so."""
    if key.size < 2:
        return None
    same = key[1:] == key[:-1]
    runs = 1 + int(key.size - 1 - np.count_nonzero(same))
    series = int(np.count_nonzero(np.bincount(key)))
    backwards = (time[1:] < time[:-1]) & same
    if runs == series and not backwards.any():
        return None
    return np.lexsort((time, key)).astype(np.intp)

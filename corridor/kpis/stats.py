"""Summaries of *tally* statistics (one number per truck or box) and the report's number format.

A tally KPI is a set of durations, one per thing that passed (a truck's turnaround, a box's
dwell). It is summarised by its mean and the percentiles a corridor is judged by (p50, p90, p95,
p99, numpy's "linear" method). The report keeps six significant digits, and a figure that does
not exist (no truck left in the window, so no mean) is `None` (JSON null), never NaN: the shape
of the report stays the same whether or not there was traffic.
"""

import math

import numpy as np
from numpy.typing import NDArray

from corridor.kpis.result import Tally

PERCENTILES = (50, 90, 95, 99)
SIGNIFICANT_DIGITS = 6
DWELL_TARGET_H = 24.0  # the corridor's one-day dwell target (DOMAIN.md)


_FIGURE = f".{SIGNIFICANT_DIGITS}g"  # the format spec made once (a snapshot writes 1,000 figures)


def figure(value: float) -> float | None:
    """A float as the report writes it: 6 significant digits; NaN or infinity -> None."""
    if not math.isfinite(value):
        return None
    return float(format(value, _FIGURE)) + 0.0  # + 0.0 turns -0.0 into 0.0


def summary(values: NDArray[np.float64]) -> Tally:
    """Mean and percentiles (`PERCENTILES`) of a tally; all None when nothing was counted."""
    if values.size == 0:
        return Tally(mean=None, p50=None, p90=None, p95=None, p99=None)
    p50, p90, p95, p99 = (figure(point) for point in linear_percentiles(values, PERCENTILES))
    return Tally(mean=figure(float(values.mean())), p50=p50, p90=p90, p95=p95, p99=p99)


def linear_percentiles(values: NDArray[np.float64], points: tuple[float, ...]) -> list[float]:
    """`np.percentile(values, points, method="linear")`, bit for bit, of a non-empty array.

    Written here because numpy's costs about 90 µs a call in fixed overhead, 40 times a sort
    of a few hundred values, and a live snapshot makes some 150 such calls on small arrays.
    The arithmetic is numpy's (2.x, `_quantile` and `_lerp`): the virtual index `(n - 1) * q`
    with `q = point / 100`, the last value at or past the end, and the interpolation taken
    from the nearer side. An array holding NaN goes to numpy, whose NaN rules these are not.
    """
    ordered = np.sort(values)
    last = ordered.size - 1
    if math.isnan(ordered[last]):  # NaN sorts last
        return [float(point) for point in np.percentile(values, points, method="linear")]
    out = []
    for point in points:
        at = last * (point / 100)
        if at >= last:
            out.append(float(ordered[last]))
            continue
        low = math.floor(at)
        below, above = float(ordered[low]), float(ordered[low + 1])
        weight = at - low
        step = above - below
        out.append(above - step * (1 - weight) if weight >= 0.5 else below + step * weight)
    return out

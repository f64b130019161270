"""Mergeable tallies: a count, an exact sum and a fixed log-spaced histogram of the values.

A percentile of the corridor is a percentile of the union of the yards' values, so it cannot be
made from the yards' percentiles. Workers that each hold some yards therefore keep, per yard
and window, a histogram on bins fixed once for everybody: adding two histograms bin by bin is
the histogram of the union, whichever worker made which.

Bins are 1 % wide (`GROWTH`): bin `k` holds `[LOWEST * 1.01**k, LOWEST * 1.01**(k+1))` and
stands for its geometric middle, so a value read back is within 0.5 % of the value put in
(`RELATIVE_ERROR`). Values below `LOWEST` (0.001 of the unit: 0.06 s of a gate wait in
minutes, 3.6 s of a dwell in hours), zero included, land in one bin read back as 0. A
percentile is then numpy's "linear" percentile (`corridor.kpis.stats.summary`) of the values
read back: the order of the values is kept (the binning is monotone), so each order statistic
and every interpolation between two of them is within 0.5 % of the exact figure (or within
`LOWEST`). The mean is exact: the sum is kept beside the bins. `docs/kpis.md` documents it.

A histogram is plain JSON data (`{"n", "sum", "bins": [[k, count], ...]}`, bins ascending,
`k = -1` the bin below `LOWEST`), so it is stored and sent as it is.
"""

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from corridor.kpis.frames import Floats
from corridor.kpis.result import Tally
from corridor.kpis.stats import PERCENTILES, figure

GROWTH = 1.01
"""Each bin's upper edge over its lower one: bins 1 % wide."""
LOWEST = 1e-3
"""The lower edge of bin 0; smaller values (and 0) are read back as 0."""
RELATIVE_ERROR = math.sqrt(GROWTH) - 1.0
"""The largest relative error of a value read back (about 0.4988 %)."""
UNDER = -1
"""The bin of the values below `LOWEST`."""

Histogram = dict[str, Any]
"""`{"n": count, "sum": exact sum, "bins": [[bin, count], ...]}` (bins ascending)."""


def histogram(values: Floats) -> Histogram:
    """The histogram of `values` (count, sum, bins).

    The bins are counted on the sorted bin numbers by hand: `np.unique(..., return_counts=True)`
    and a Python pair per bin cost about three times as much, and a live snapshot makes some
    120 histograms.
    """
    bins = np.sort(bin_of(values))
    starts = np.flatnonzero(np.concatenate(([True], bins[1:] != bins[:-1]))[: bins.size])
    counts = np.diff(np.append(starts, bins.size))
    return {
        "n": int(values.size),
        "sum": float(values.sum()) if values.size else 0.0,
        "bins": np.stack((bins[starts], counts), axis=1).tolist(),
    }


def bin_of(values: Floats) -> Floats:
    """The bin of each value (`UNDER` below `LOWEST`)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.floor(np.log(values / LOWEST) / math.log(GROWTH))
    return np.where(values >= LOWEST, k, UNDER).astype(np.int64)


def value_of(bins: Floats) -> Floats:
    """The value a bin stands for: its geometric middle (0 for `UNDER`)."""
    middle: Floats = LOWEST * np.power(GROWTH, bins + 0.5)
    return np.where(bins == UNDER, 0.0, middle)


def merged(parts: Iterable[Histogram]) -> Histogram:
    """The histogram of the union of the parts' values.

    Bins and counts are JSON integers (`histogram` makes them, stores give them back), added
    as they are: an `int()` of each was a third of this function's cost, and a live snapshot
    merges some 40 histograms of hundreds of bins (`docs/performance.md`).
    """
    counts: dict[int, int] = {}
    n, total = 0, 0.0
    for part in parts:
        n += int(part["n"])
        total += float(part["sum"])
        count = counts.get
        for k, c in part["bins"]:
            counts[k] = count(k, 0) + c
    return {"n": n, "sum": total, "bins": [[k, counts[k]] for k in sorted(counts)]}


def percentiles(hist: Histogram, points: Iterable[float]) -> list[float]:
    """numpy's "linear" percentiles of the values the bins stand for (NaN when empty)."""
    n = int(hist["n"])
    wanted = list(points)
    if n == 0:
        return [math.nan for _ in wanted]
    bins = np.asarray([k for k, _ in hist["bins"]], dtype=np.float64)
    ends = np.cumsum([c for _, c in hist["bins"]])  # order index i is in the first bin ending > i
    values = value_of(bins)
    out = []
    for point in wanted:
        at = (n - 1) * point / 100.0
        low = math.floor(at)
        high = min(low + 1, n - 1)
        below, above = values[np.searchsorted(ends, [low, high], side="right")]
        out.append(float(below + (at - low) * (above - below)))
    return out


def tally(hist: Histogram) -> Tally:
    """Mean (exact) and percentiles (within `RELATIVE_ERROR`) as the report writes them."""
    n = int(hist["n"])
    if n == 0:
        return Tally(mean=None, p50=None, p90=None, p95=None, p99=None)
    p50, p90, p95, p99 = (figure(v) for v in percentiles(hist, PERCENTILES))
    return Tally(mean=figure(float(hist["sum"]) / n), p50=p50, p90=p90, p95=p95, p99=p99)

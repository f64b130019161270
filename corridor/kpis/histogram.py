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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

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
_DENSE_KEYS = 1 << 16
"""`histograms` counts by `np.bincount` while it needs at most this many counters more than
four per value."""

Histogram = dict[str, Any]
"""`{"n": count, "sum": exact sum, "bins": [[bin, count], ...]}` (bins ascending)."""


def histogram(values: Floats) -> Histogram:
    """The histogram of `values` (count, sum, bins): `histograms` of one array."""
    return histograms([values])[0]


def histograms(arrays: Sequence[Floats]) -> list[Histogram]:
    """The histogram of each of `arrays`, in one pass of numpy calls for all of them.

    A live snapshot makes some 120 histograms of small arrays, where numpy's fixed cost per
    call was most of the work: the values are binned together, each array's bins offset by
    its position (`owner * span`), and counted by one `np.bincount` over those keys (no sort:
    the bins are a few thousand at most; with far more keys than values, an outlier's bin,
    the keys are sorted and counted by runs instead), and the pairs made Python ints by one
    `tolist`. Each array's sum is its own `values.sum()`, as a lone histogram's.
    """
    if not arrays:
        return []
    values = np.concatenate(arrays) if len(arrays) > 1 else arrays[0]
    bins = bin_of(values).astype(np.int64, copy=False)  # it is: typed so
    span = int(bins.max()) - UNDER + 1 if bins.size else 1
    owner = np.repeat(np.arange(len(arrays), dtype=np.int64), [a.size for a in arrays])
    keys = owner * span + (bins - UNDER)
    if len(arrays) * span <= 4 * keys.size + _DENSE_KEYS:
        tallied = np.bincount(keys)
        first = np.flatnonzero(tallied)
        counts = tallied[first]
    else:
        keys.sort()
        starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1]))[: keys.size])
        counts = np.diff(np.append(starts, keys.size))
        first = keys[starts]
    pairs = np.stack((first % span + UNDER, counts), axis=1).tolist()
    cuts = np.searchsorted(first // span, np.arange(len(arrays) + 1)).tolist()
    return [
        {
            "n": int(part.size),
            "sum": float(part.sum()) if part.size else 0.0,
            "bins": pairs[cuts[at] : cuts[at + 1]],
        }
        for at, part in enumerate(arrays)
    ]


def bin_of(values: Floats) -> Floats:
    """The bin of each value (`UNDER` below `LOWEST`)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.floor(np.log(values / LOWEST) / math.log(GROWTH))
    return np.where(values >= LOWEST, k, UNDER).astype(np.int64)


def value_of(bins: Floats) -> Floats:
    """The value a bin stands for: its geometric middle (0 for `UNDER`)."""
    middle: Floats = LOWEST * np.power(GROWTH, bins + 0.5)
    return np.where(bins == UNDER, 0.0, middle)


@dataclass(frozen=True, slots=True)
class Merged:
    """Histograms added up, as arrays: what `percentiles` and `tally` read (`merged` gives
    the same as JSON data)."""

    n: int
    sum: float
    bins: NDArray[np.int64]  # ascending
    counts: NDArray[np.int64]


def combined(parts: Iterable[Histogram]) -> Merged:
    """The parts added up: counts and bins of the union of their values, and their sums added
    in order.

    Bins and counts are JSON integers (`histogram` makes them, stores give them back), added
    as they are in a dict (an `int()` of each was a third of the cost); the result is arrays,
    not a JSON list that `percentiles` would walk again: a live snapshot merges some 40
    histograms of hundreds of bins (`docs/performance.md`).
    """
    counts: dict[int, int] = {}
    n, total = 0, 0.0
    for part in parts:
        n += int(part["n"])
        total += float(part["sum"])
        bins = part["bins"]
        if not counts:  # the first part's bins as they are, unless one appears twice
            counts = dict(bins)
            if len(counts) == len(bins):
                continue
            counts = {}
        count = counts.get
        for k, c in bins:
            counts[k] = count(k, 0) + c
    keys = sorted(counts)
    return Merged(
        n=n,
        sum=total,
        bins=np.fromiter(keys, np.int64, len(keys)),
        counts=np.fromiter(map(counts.__getitem__, keys), np.int64, len(keys)),
    )


def merged(parts: Iterable[Histogram]) -> Histogram:
    """The histogram of the union of the parts' values (`combined`, as JSON data)."""
    both = combined(parts)
    bins = np.stack((both.bins, both.counts), axis=1).tolist() if both.bins.size else []
    return {"n": both.n, "sum": both.sum, "bins": bins}


def percentiles(hist: Histogram | Merged, points: Iterable[float]) -> list[float]:
    """numpy's "linear" percentiles of the values the bins stand for (NaN when empty).

    The order statistics each point reads are found in one `searchsorted` over the
    cumulative counts, and only their bins are turned into values."""
    both = hist if isinstance(hist, Merged) else combined([hist])
    n = both.n
    wanted = list(points)
    if n == 0:
        return [math.nan for _ in wanted]
    ats = [(n - 1) * point / 100.0 for point in wanted]
    lows = [math.floor(at) for at in ats]
    highs = [min(low + 1, n - 1) for low in lows]
    ends = np.cumsum(both.counts)  # order index i is in the first bin ending > i
    found = np.searchsorted(ends, [*lows, *highs], side="right")
    values = value_of(both.bins[found].astype(np.float64))
    out = []
    for at, (low, below, above) in enumerate(
        zip(lows, values[: len(wanted)], values[len(wanted) :], strict=True)
    ):
        out.append(float(below + (ats[at] - low) * (above - below)))
    return out


def tally(hist: Histogram | Merged) -> Tally:
    """Mean (exact) and percentiles (within `RELATIVE_ERROR`) as the report writes them."""
    both = hist if isinstance(hist, Merged) else combined([hist])
    n = both.n
    if n == 0:
        return Tally(mean=None, p50=None, p90=None, p95=None, p99=None)
    p50, p90, p95, p99 = (figure(v) for v in percentiles(both, PERCENTILES))
    return Tally(mean=figure(both.sum / n), p50=p50, p90=p90, p95=p95, p99=p99)

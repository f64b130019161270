"""`corridor.kpis.histogram.histogram` counts the bins as `np.unique` does: same bins, counts,
order and Python types, for empty arrays, one value, values under `LOWEST` and wide ranges."""

import itertools
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from corridor.kpis.histogram import (
    bin_of,
    combined,
    histogram,
    histograms,
    merged,
    percentiles,
    tally,
    value_of,
)

values = arrays(
    np.float64,
    st.integers(0, 300),
    elements=st.floats(0.0, 1e5, allow_nan=False) | st.sampled_from([0.0, 1e-4, 24.0]),
)


@settings(max_examples=300, derandomize=True)
@given(values)
def test_bins_equal_np_unique(drawn: np.ndarray) -> None:
    keys, counts = np.unique(bin_of(drawn), return_counts=True)
    made = histogram(drawn)
    assert made["bins"] == [[int(k), int(c)] for k, c in zip(keys, counts, strict=True)]
    assert all(type(number) is int for pair in made["bins"] for number in pair)
    assert made["n"] == drawn.size


@settings(max_examples=300, derandomize=True)
@given(values, st.lists(st.integers(0, 300), max_size=3))
def test_merged_parts_count_as_the_whole(drawn: np.ndarray, cuts: list[int]) -> None:
    """Cut anywhere, the parts' histograms merged have the whole's bins and counts, as Python
    ints, and its count; the sum is the parts' sums added in order."""
    edges = [0, *sorted(min(cut, drawn.size) for cut in cuts), drawn.size]
    parts = [histogram(drawn[low:high]) for low, high in itertools.pairwise(edges)]
    both = merged(parts)
    whole = histogram(drawn)
    assert both["bins"] == whole["bins"]
    assert all(type(number) is int for pair in both["bins"] for number in pair)
    assert both["n"] == whole["n"]
    total = 0.0
    for part in parts:
        total += part["sum"]
    assert both["sum"] == total


def _unique_histogram(drawn: np.ndarray) -> dict[str, object]:
    """The histogram as `np.unique` counts it (the reference of the tests above)."""
    keys, counts = np.unique(bin_of(drawn), return_counts=True)
    return {
        "n": int(drawn.size),
        "sum": float(drawn.sum()) if drawn.size else 0.0,
        "bins": [[int(k), int(c)] for k, c in zip(keys, counts, strict=True)],
    }


@settings(max_examples=200, derandomize=True)
@given(st.lists(values, max_size=12), st.booleans())
def test_histograms_of_many_arrays_are_each_arrays_own(drawn: list[np.ndarray], far: bool) -> None:
    """`histograms` of several arrays in one pass: each one's bins, counts, count and sum as
    its own histogram, whether counted densely or, with a far outlier, by sorted keys."""
    if far and drawn:
        drawn = [*drawn[:-1], np.append(drawn[-1], 1e300)]  # bin ~70,000: the sorted path
    made = histograms(drawn)
    assert made == [_unique_histogram(array) for array in drawn]
    assert all(type(number) is int for one in made for pair in one["bins"] for number in pair)


def _percentiles_walking_the_lists(hist: dict[str, object], points: tuple[float, ...]) -> list:
    """`percentiles` as it was before it read `combined`'s arrays: the reference, bit for bit."""
    n = int(hist["n"])  # type: ignore[call-overload]
    if n == 0:
        return [math.nan for _ in points]
    pairs = hist["bins"]
    bins = np.asarray([k for k, _ in pairs], dtype=np.float64)  # type: ignore[attr-defined]
    ends = np.cumsum([c for _, c in pairs])  # type: ignore[attr-defined]
    values = value_of(bins)
    out = []
    for point in points:
        at = (n - 1) * point / 100.0
        low = math.floor(at)
        high = min(low + 1, n - 1)
        below, above = values[np.searchsorted(ends, [low, high], side="right")]
        out.append(float(below + (at - low) * (above - below)))
    return out


@settings(max_examples=300, derandomize=True)
@given(st.lists(values, min_size=1, max_size=4))
def test_percentiles_of_combined_parts_are_the_merged_lists_own(drawn: list[np.ndarray]) -> None:
    """The corridor's percentiles read off `combined`'s arrays are, to the bit, those read
    off the merged JSON histogram; and `merged` is `combined` as JSON data."""
    parts = histograms(drawn)
    whole = merged(parts)
    both = combined(parts)
    assert [[int(k), int(c)] for k, c in zip(both.bins, both.counts, strict=True)] == whole["bins"]
    points = (50, 90, 95, 99)
    expected = _percentiles_walking_the_lists(whole, points)
    for got in (percentiles(both, points), percentiles(whole, points)):
        assert [repr(value) for value in got] == [repr(value) for value in expected]
    assert tally(both) == tally(whole)

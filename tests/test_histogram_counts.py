"""`corridor.kpis.histogram.histogram` counts the bins as `np.unique` does: same bins, counts,
order and Python types, for empty arrays, one value, values under `LOWEST` and wide ranges."""

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from corridor.kpis.histogram import bin_of, histogram, merged

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

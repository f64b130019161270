"""`corridor.kpis.stats.linear_percentiles` is numpy's "linear" percentile bit for bit.

Hypothesis draws arrays of every size the KPIs see (one value, ties, zeros, wide ranges, NaN);
each percentile must be the very float `np.percentile` gives, so the KPI report (and the
`corridor simulate` sha256) cannot move.
"""

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from corridor.kpis.stats import PERCENTILES, linear_percentiles

POINTS = (*PERCENTILES, 0, 10, 25, 33, 75, 100)

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
values = arrays(np.float64, st.integers(1, 400), elements=finite | st.sampled_from([0.0, 24.0]))


def _bits(numbers: list[float]) -> list[str]:
    return [float(number).hex() if not math.isnan(number) else "nan" for number in numbers]


@settings(max_examples=300, derandomize=True)
@given(values)
def test_equals_numpy_bit_for_bit(drawn: np.ndarray) -> None:
    expected = [float(point) for point in np.percentile(drawn, POINTS, method="linear")]
    assert _bits(linear_percentiles(drawn, POINTS)) == _bits(expected)


def test_equals_numpy_on_dwell_like_hours() -> None:
    rng = np.random.default_rng(14)
    for size in (1, 2, 3, 7, 100, 101, 5_000):
        hours = rng.gamma(2.0, 12.0, size).round(4)
        expected = [float(point) for point in np.percentile(hours, POINTS, method="linear")]
        assert _bits(linear_percentiles(hours, POINTS)) == _bits(expected), size


def test_nan_follows_numpy_and_input_is_left_alone() -> None:
    given_values = np.array([3.0, float("nan"), 1.0])
    assert all(math.isnan(point) for point in linear_percentiles(given_values, (50, 99)))
    assert _bits(list(given_values)) == _bits([3.0, float("nan"), 1.0])

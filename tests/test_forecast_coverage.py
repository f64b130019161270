"""The honest coverage of a forecast band (`corridor.forecast.coverage`).

Hand cases: without ties it is the naive count; a band of [0, 0] and an outcome of 0 is
credited 7/9, not 1; and a perfect model (outcome and replications drawn alike) scores the
nominal (n - 1) / (n + 1) on average for a quantity that is mostly zero, where the naive count
scores far above it.
"""

import math

import numpy as np
import pytest

from corridor.forecast.bands import band
from corridor.forecast.coverage import nominal, randomized_coverage

EIGHT = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]


def naive(members: list[float], outcome: float) -> float:
    held = band(members).holds(outcome)
    assert held is not None
    return float(held)


@pytest.mark.parametrize("outcome", [0.5, 1.5, 4.2, 7.9, 8.5])
def test_without_ties_it_is_the_naive_count(outcome: float) -> None:
    assert randomized_coverage(EIGHT, outcome) == naive(EIGHT, outcome)


def test_ties_count_by_their_probability() -> None:
    assert randomized_coverage([0.0] * 8, 0.0) == pytest.approx(7 / 9)
    assert naive([0.0] * 8, 0.0) == 1.0
    # the outcome ties the lowest replication: ranks 0 or 1, the band holds it in one of two
    assert randomized_coverage(EIGHT, 1.0) == pytest.approx(0.5)
    # four zeros and an outcome of 0: ranks 0..4, all but rank 0 inside
    assert randomized_coverage([0.0] * 4 + [1.0, 2.0, 3.0, 4.0], 0.0) == pytest.approx(4 / 5)


def test_nothing_to_count_is_none() -> None:
    assert randomized_coverage([], 1.0) is None
    assert randomized_coverage(EIGHT, math.nan) is None
    assert randomized_coverage([math.nan] * 8, 1.0) is None


def test_a_perfect_model_scores_the_nominal_coverage_even_with_an_atom_at_zero() -> None:
    rng = np.random.default_rng(7)
    cases = 4000
    draws = rng.poisson(0.15, size=(cases, 9)).astype(float)  # mostly 0, like a quiet gate
    proper = [randomized_coverage(list(row[:8]), row[8]) for row in draws]
    naive_hits = [naive(list(row[:8]), row[8]) for row in draws]
    assert nominal(8) == pytest.approx(7 / 9)
    assert np.mean(proper) == pytest.approx(7 / 9, abs=0.02)
    assert np.mean(naive_hits) > 0.9  # the naive count flatters a model that is exactly right

"""How often a forecast's band holds the outcome, counted honestly for quantities with ties.

The naive count asks "is the outcome in [p10, p90]?". For a quantity with an atom (the gate
queue is 0 in most hours) that flatters the forecast: a band of [0, 0] "holds" an outcome of 0
every time, whatever the model. The proper count (Czado, Gneiting & Held 2009, "Predictive model
assessment for count data"; the randomized rank of Hamill 2001) breaks ties at random: were
the model right, the outcome would be one more draw like the replications, so its rank among
them would be uniform; with `below` replications under the outcome and `ties` equal to it,
its rank is taken uniformly from below .. below + ties, and the band is credited with the
probability that the outcome, so placed, lies inside it.

The band's ends are the replications' percentiles at the Weibull positions a = 0.1 (n + 1)
and b = 0.9 (n + 1), clamped to 1 .. n as numpy does (`corridor.forecast.bands`). An outcome
of rank r (r replications below it) lies above the low end with probability
clip(r + 1 - a, 0, 1) (certainly when r >= a, never when r + 1 <= a, in between linearly: the
outcome's place in that gap is taken as uniform) and below the high end with probability
clip(b - r, 0, 1). Without ties, and with n = 8 (where a = 1 and b = 8 exactly), this is the
naive count; with ties it counts the tied ranks by their probability. A perfect model then
scores `nominal(n)` on average: (n - 1) / (n + 1) for n = 8 (77.8 %), whatever the outcome's
distribution, atoms at zero included.
"""

import math
from collections.abc import Sequence

LOW, HIGH = 0.10, 0.90


def _positions(n: int, low: float, high: float) -> tuple[float, float]:
    """The band's ends as (1-based) order-statistic positions, clamped as numpy's "weibull"."""
    return min(max(low * (n + 1), 1.0), float(n)), min(max(high * (n + 1), 1.0), float(n))


def _rank_inside(rank: int, a: float, b: float) -> float:
    """The probability that an outcome with `rank` replications below it is in the band."""
    above_low = min(max(rank + 1 - a, 0.0), 1.0)
    below_high = min(max(b - rank, 0.0), 1.0)
    return max(above_low + below_high - 1.0, 0.0)


def randomized_coverage(
    members: Sequence[float], outcome: float, low: float = LOW, high: float = HIGH
) -> float | None:
    """The probability (0..1) that the band of `members` holds `outcome`, ties broken at
    random (module docstring); None without members or outcome (NaN)."""
    known = [value for value in members if not math.isnan(value)]
    if not known or math.isnan(outcome):
        return None
    a, b = _positions(len(known), low, high)
    below = sum(1 for value in known if value < outcome - 1e-9)
    ties = sum(1 for value in known if abs(value - outcome) <= 1e-9)
    ranks = range(below, below + ties + 1)
    return sum(_rank_inside(rank, a, b) for rank in ranks) / len(ranks)


def nominal(n: int, low: float = LOW, high: float = HIGH) -> float:
    """The coverage a perfect model scores on average with `n` replications."""
    a, b = _positions(n, low, high)
    return sum(_rank_inside(rank, a, b) for rank in range(n + 1)) / (n + 1)

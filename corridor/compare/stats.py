"""The difference of a KPI between two runs, with its 95 % interval.

Each run gives one value of the KPI per replication. When both runs used the same seeds
(common random numbers: replication r of each saw the same generated traffic and the same
draws wherever the models agree), the values are paired and the interval is the paired t
interval of the differences d_r = scenario_r − base_r: d̄ ± t(0.975, n − 1) · s_d / √n. It is
much narrower than comparing independent runs, because the noise both runs share cancels.
Otherwise the runs are independent samples and the interval is Welch's: the difference of the
means ± t(0.975, ν) · √(s₁²/n₁ + s₂²/n₂), ν by the Welch–Satterthwaite formula. A difference is
significant at 95 % when its interval does not contain 0. Fewer than two values on a side (or
two pairs) give no interval and no verdict.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

CONFIDENCE = 0.95
Method = Literal["paired", "welch"]


@dataclass(frozen=True, slots=True)
class Difference:
    """scenario − base for one KPI: the means, the difference, its 95 % interval, the verdict."""

    base: float | None
    scenario: float | None
    difference: float | None
    low: float | None
    high: float | None
    n_base: int
    n_scenario: int
    method: Method

    @property
    def significant(self) -> bool:
        """True when the 95 % interval excludes 0."""
        if self.low is None or self.high is None:
            return False
        return self.low > 0.0 or self.high < 0.0


def compare_values(
    base: Sequence[float | None], scenario: Sequence[float | None], method: Method
) -> Difference:
    """The difference of the replications' values (None: the replication has no value)."""
    if method == "paired":
        return _paired(base, scenario)
    return _welch(
        [float(v) for v in base if v is not None], [float(v) for v in scenario if v is not None]
    )


def _paired(base: Sequence[float | None], scenario: Sequence[float | None]) -> Difference:
    if len(base) != len(scenario):
        raise ValueError(f"paired: {len(base)} base and {len(scenario)} scenario replications")
    pairs = [(b, s) for b, s in zip(base, scenario, strict=True) if b is not None and s is not None]
    n = len(pairs)
    base_mean = _mean([b for b, _ in pairs])
    scenario_mean = _mean([s for _, s in pairs])
    diffs = [s - b for b, s in pairs]
    mean = _mean(diffs)
    if n < 2 or mean is None:
        return Difference(base_mean, scenario_mean, mean, None, None, n, n, "paired")
    half = _t(n - 1) * _sd(diffs) / math.sqrt(n)
    return Difference(base_mean, scenario_mean, mean, mean - half, mean + half, n, n, "paired")


def _welch(base: list[float], scenario: list[float]) -> Difference:
    n1, n2 = len(base), len(scenario)
    m1, m2 = _mean(base), _mean(scenario)
    mean = None if m1 is None or m2 is None else m2 - m1
    if n1 < 2 or n2 < 2 or mean is None:
        return Difference(m1, m2, mean, None, None, n1, n2, "welch")
    v1, v2 = _sd(base) ** 2 / n1, _sd(scenario) ** 2 / n2
    spread = math.sqrt(v1 + v2)
    if spread == 0.0:
        return Difference(m1, m2, mean, mean, mean, n1, n2, "welch")
    freedom = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))
    half = _t(freedom) * spread
    return Difference(m1, m2, mean, mean - half, mean + half, n1, n2, "welch")


def _t(freedom: float) -> float:
    from scipy import stats  # here, not at the top: it costs every CLI command a second

    return float(stats.t.ppf(0.5 + CONFIDENCE / 2, freedom))


def _mean(values: Sequence[float]) -> float | None:
    return math.fsum(values) / len(values) if values else None


def _sd(values: Sequence[float]) -> float:
    mean = math.fsum(values) / len(values)
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1))

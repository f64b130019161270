"""The parameters the observations identify, and how a fit reshapes their distributions.

Each *knob* is one process-time field of a station spec whose effect one stage shows:

- `gate.service_min` (the smart lanes' check) makes up the `gate` stage, with the queue before
  it: its median and spread are both fitted. Observations do not say which lane a truck took,
  so every truck counts on both sides, and the spread is the interquartile range: the p90 sits
  where the manual exception lane's trucks (10 % of them, several minutes each) begin, and
  would fit those instead of the smart lanes;
- `gate.yard_drive_min` is drawn twice in the `in_yard` stage (there and back), beside a
  reach-stacker lift, the out-gate check and any wait for stack room or an import box. Only the
  sum is observed, so the drive absorbs the whole of that stage's residual, half on each leg,
  and only its median is fitted (the spread of a sum does not say which part it came from).

A fit is a *shift* (minutes added to the distribution's median) and a *scale* (its spread about
the median multiplied), applied as the affine map ``x -> m + shift + scale * (x - m)`` of a
triangular distribution's `low`, `mode` and `high` (which moves every quantile the same way).
A constant moves by the shift; an exponential or lognormal keeps its shape and is stretched so
that its median moves by the shift (their spread is not fitted).
"""

import math
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from stations.distributions import Constant, Distribution, Exponential, Lognormal, Triangular

MIN_PAIRS_FOR_SHIFT = 30
"""Fewer pairs than this in a stage and its knob is left as it was (a median of noise)."""
MIN_PAIRS_FOR_SCALE = 100
"""A p90 needs more pairs than a median: below this, only the shift is fitted."""
SCALE_LIMITS = (0.04, 25.0)
SMALLEST_MEDIAN_MIN = 0.01
DECIMALS = 4  # of a minute in the written scenario (6 ms): readable, and what is replayed


class Knob(NamedTuple):
    """One fitted field and the stage that identifies it."""

    section: str
    field: str
    stage: str
    draws_per_stage: int  # how many draws of the field one stage holds (the drive: 2)
    fit_scale: bool

    @property
    def path(self) -> str:
        return f"{self.section}.{self.field}"


KNOBS = (
    Knob("gate", "service_min", "gate", 1, fit_scale=True),
    Knob("gate", "yard_drive_min", "in_yard", 2, fit_scale=False),
)


@dataclass(frozen=True, slots=True)
class Fit:
    """The fit of one knob at one yard: its shift and scale, the pairs it rests on."""

    yard: str
    knob: Knob
    before: Distribution
    shift_min: float = 0.0
    scale: float = 1.0
    pairs: int = 0
    fitted: bool = False  # False: too few pairs, left as it was
    scale_fitted: bool = False

    @property
    def after(self) -> Distribution:
        return reshape(self.before, self.shift_min, self.scale)

    def stepped(self, residual_min: float, spread_ratio: float | None) -> "Fit":
        """The next estimate after a replay left `residual_min` (observed - modelled median)."""
        floor = SMALLEST_MEDIAN_MIN - median(self.before)
        shift = max(self.shift_min + residual_min / self.knob.draws_per_stage, floor)
        scale = self.scale
        if spread_ratio is not None and self.scale_fitted:
            low, high = SCALE_LIMITS
            scale = min(max(scale * spread_ratio, low), high)
        return replace(self, shift_min=shift, scale=scale)


def reshape(distribution: Distribution, shift: float, scale: float) -> Distribution:
    """The distribution with its median moved by `shift` and (triangular) spread scaled."""
    centre = median(distribution)
    target = max(centre + shift, SMALLEST_MEDIAN_MIN)
    if isinstance(distribution, Triangular):
        low, mode, high = (
            max(target + scale * (value - centre), 0.0)
            for value in (distribution.low, distribution.mode, distribution.high)
        )
        return Triangular(_round(low), _round(mode), _round(max(high, low + 10**-DECIMALS)))
    if isinstance(distribution, Constant):
        return Constant(_round(target))
    stretch = target / centre
    if isinstance(distribution, Exponential):
        return Exponential(_round(distribution.mean * stretch))
    return Lognormal(_round(distribution.mean * stretch), _round(distribution.sd * stretch))


def median(distribution: Distribution) -> float:
    """The distribution's median (in its own unit)."""
    if isinstance(distribution, Constant):
        return distribution.value
    if isinstance(distribution, Exponential):
        return distribution.mean * math.log(2.0)
    if isinstance(distribution, Lognormal):
        sigma2 = math.log(1.0 + (distribution.sd / distribution.mean) ** 2)
        return distribution.mean * math.exp(-sigma2 / 2.0)
    low, mode, high = distribution.low, distribution.mode, distribution.high
    if mode - low >= (high - low) / 2.0:
        return low + math.sqrt((high - low) * (mode - low) / 2.0)
    return high - math.sqrt((high - low) * (high - mode) / 2.0)


def as_table(distribution: Distribution) -> dict[str, Any]:
    """The distribution as the TOML table `stations.distributions.parse_distribution` reads."""
    if isinstance(distribution, Constant):
        return {"dist": "constant", "value": distribution.value}
    if isinstance(distribution, Exponential):
        return {"dist": "exponential", "mean": distribution.mean}
    if isinstance(distribution, Lognormal):
        return {"dist": "lognormal", "mean": distribution.mean, "sd": distribution.sd}
    return {
        "dist": "triangular",
        "low": distribution.low,
        "mode": distribution.mode,
        "high": distribution.high,
    }


def describe(distribution: Distribution) -> str:
    """One short line, e.g. ``triangular(0.4, 0.6, 1.0)``."""
    table = as_table(distribution)
    values = ", ".join(f"{value:g}" for key, value in table.items() if key != "dist")
    return f"{table['dist']}({values})"


def _round(value: float) -> float:
    return round(value, DECIMALS)

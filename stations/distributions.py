"""Process-time distributions, described as data and sampled from a `RandomStream`.

Every process time in a station spec is one of these, written in TOML as a table with a
`dist` key, e.g. ``service_min = { dist = "triangular", low = 0.4, mode = 0.6, high = 1.0 }``,
or as a bare number (a constant). The unit is carried by the field's name (`_min` = minutes,
`_h` = hours), never by the distribution. Each is a msgspec struct tagged by `dist`, so the
station schema (`stations.spec`) refuses an unknown parameter (`maen`) by name, with its path.
"""

import math
from typing import Any

import msgspec

from stations.random_streams import RandomStream
from stations.spec_errors import SpecError, convert


class _Dist(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="dist"):
    """A distribution's table: its `dist` tag and parameters, nothing else."""


class Constant(_Dist, tag="constant", frozen=True):
    """Always `value`."""

    value: float

    def __post_init__(self) -> None:
        _check_non_negative("value", self.value)

    @property
    def mean(self) -> float:
        return self.value

    def sample(self, stream: RandomStream) -> float:
        return self.value


class Exponential(_Dist, tag="exponential", frozen=True):
    """Memoryless times with the given mean (the M in M/M/c)."""

    mean: float

    def __post_init__(self) -> None:
        _check_positive("mean", self.mean)

    def sample(self, stream: RandomStream) -> float:
        return -self.mean * math.log(1.0 - stream.uniform())


class Triangular(_Dist, tag="triangular", frozen=True):
    """Between `low` and `high`, most often `mode`: the estimate an operator can give."""

    low: float
    mode: float
    high: float

    def __post_init__(self) -> None:
        _check_non_negative("low", self.low)
        _check_non_negative("high", self.high)
        if not self.low <= self.mode <= self.high or self.low == self.high:
            raise ValueError(
                f"triangular needs low <= mode <= high and low < high, "
                f"got {self.low}, {self.mode}, {self.high}"
            )

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3.0

    def sample(self, stream: RandomStream) -> float:
        u = stream.uniform()
        low, mode, high = self.low, self.mode, self.high
        split = (mode - low) / (high - low)
        if u < split:
            return low + math.sqrt(u * (high - low) * (mode - low))
        return high - math.sqrt((1.0 - u) * (high - low) * (high - mode))


class Lognormal(_Dist, tag="lognormal", frozen=True):
    """Right-skewed times given by their own `mean` and standard deviation `sd`."""

    mean: float
    sd: float

    def __post_init__(self) -> None:
        _check_positive("mean", self.mean)
        _check_positive("sd", self.sd)

    @property
    def _sigma(self) -> float:
        return math.sqrt(math.log(1.0 + (self.sd / self.mean) ** 2))

    @property
    def _mu(self) -> float:
        return math.log(self.mean) - self._sigma**2 / 2.0

    def sample(self, stream: RandomStream) -> float:
        return math.exp(self._mu + self._sigma * stream.normal())


Distribution = Constant | Exponential | Triangular | Lognormal
KINDS = ("constant", "exponential", "lognormal", "triangular")


def parse_distribution(field: str, table: Any) -> Distribution:
    """Build a distribution from its TOML table (or a bare number); errors name the field."""
    if isinstance(table, int | float) and not isinstance(table, bool):
        table = {"dist": "constant", "value": table}
    try:
        distribution: Distribution = convert(table, Distribution)
    except SpecError as error:
        raise ValueError(error.at(field)) from None
    return distribution


def _check_positive(name: str, value: float) -> None:
    if not value > 0 or math.isinf(value):
        raise ValueError(f"{name}: must be positive and finite, got {value}")


def _check_non_negative(name: str, value: float) -> None:
    if not value >= 0 or math.isinf(value):
        raise ValueError(f"{name}: must be non-negative and finite, got {value}")

"""Process-time distributions, described as data and sampled from a `RandomStream`.

Every process time in a station spec is one of these, written in TOML as a table with a
`dist` key, e.g. ``service_min = { dist = "triangular", low = 0.4, mode = 0.6, high = 1.0 }``.
The unit is carried by the field's name (`_min` = minutes, `_h` = hours), never by the
distribution.
"""

import math
from dataclasses import dataclass
from typing import Any

from stations.random_streams import RandomStream


@dataclass(frozen=True, slots=True)
class Constant:
    """Always `value`."""

    value: float

    def __post_init__(self) -> None:
        _check_non_negative("value", self.value)

    @property
    def mean(self) -> float:
        return self.value

    def sample(self, stream: RandomStream) -> float:
        return self.value


@dataclass(frozen=True, slots=True)
class Exponential:
    """Memoryless times with the given mean (the M in M/M/c)."""

    mean: float

    def __post_init__(self) -> None:
        _check_positive("mean", self.mean)

    def sample(self, stream: RandomStream) -> float:
        return -self.mean * math.log(1.0 - stream.uniform())


@dataclass(frozen=True, slots=True)
class Triangular:
    """Between `low` and `high`, most often `mode`: the estimate an operator can give."""

    low: float
    mode: float
    high: float

    def __post_init__(self) -> None:
        _check_non_negative("low", self.low)
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


@dataclass(frozen=True, slots=True)
class Lognormal:
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

_KINDS: dict[str, type[Distribution]] = {
    "constant": Constant,
    "exponential": Exponential,
    "triangular": Triangular,
    "lognormal": Lognormal,
}


def parse_distribution(field: str, table: Any) -> Distribution:
    """Build a distribution from its TOML table; errors name the field."""
    if isinstance(table, int | float) and not isinstance(table, bool):
        return Constant(float(table))
    if not isinstance(table, dict) or "dist" not in table:
        raise ValueError(f"{field}: expected a number or a table with 'dist', got {table!r}")
    params = {key: value for key, value in table.items() if key != "dist"}
    kind = _KINDS.get(table["dist"])
    if kind is None:
        raise ValueError(
            f"{field}: unknown distribution {table['dist']!r}; use one of {sorted(_KINDS)}"
        )
    try:
        return kind(**{key: float(value) for key, value in params.items()})
    except (TypeError, ValueError) as error:
        raise ValueError(f"{field}: {error}") from None


def _check_positive(name: str, value: float) -> None:
    if not value > 0 or math.isinf(value):
        raise ValueError(f"{name} must be positive and finite, got {value}")


def _check_non_negative(name: str, value: float) -> None:
    if not value >= 0 or math.isinf(value):
        raise ValueError(f"{name} must be non-negative and finite, got {value}")

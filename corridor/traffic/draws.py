"""Random draws for the traffic generator, vectorised with numpy.

Every yard and purpose ("export arrivals", "import pickup", "reefer episodes", ...) has its
own stream, keyed exactly like `stations.random_streams.RandomStream(seed, "generator", yard,
purpose, replication=r)`, so a yard's traffic does not depend on which other yards are
generated, and a new purpose does not shift the samples of an old one. Draws are made a day at
a time in arrays: a scalar numpy call costs as much as building the event it feeds.
"""

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from corridor.traffic.timebase import MS_PER_HOUR, Floats, Ints
from stations.distributions import Constant, Distribution, Exponential, Lognormal, Triangular
from stations.random_streams import stream_generator
from stations.spec import ContainerNumberSpec

Bools = npt.NDArray[np.bool_]


def stream(seed: int, yard: str, purpose: str, replication: int = 0) -> np.random.Generator:
    """The generator's random stream for one yard and purpose (in replication `replication`)."""
    return stream_generator(seed, "generator", yard, purpose, replication=replication)


def sample_array(distribution: Distribution, rng: np.random.Generator, n: int) -> Floats:
    """`n` samples of a spec distribution (the vectorised twin of `Distribution.sample`)."""
    if isinstance(distribution, Constant):
        return np.full(n, distribution.value)
    if isinstance(distribution, Exponential):
        return rng.exponential(distribution.mean, n)
    if isinstance(distribution, Triangular):
        return _triangular(distribution, rng.random(n))
    return _lognormal(distribution, rng.standard_normal(n))


def _triangular(dist: Triangular, u: Floats) -> Floats:
    low, mode, high = dist.low, dist.mode, dist.high
    split = (mode - low) / (high - low)
    below = low + np.sqrt(u * (high - low) * (mode - low))
    above = high - np.sqrt((1.0 - u) * (high - low) * (high - mode))
    return np.where(u < split, below, above)


def _lognormal(dist: Lognormal, z: Floats) -> Floats:
    sigma = math.sqrt(math.log(1.0 + (dist.sd / dist.mean) ** 2))
    mu = math.log(dist.mean) - sigma**2 / 2.0
    return np.exp(mu + sigma * z)


def hourly_arrivals(
    rng: np.random.Generator, per_hour: Floats, local_ms0: int, lo_ms: int, hi_ms: int
) -> Floats:
    """Arrival times in [lo_ms, hi_ms) of a Poisson process whose rate changes by local hour.

    `per_hour[h]` is the mean number of arrivals in local hour h. The window is cut at local
    hour boundaries; each piece gets a Poisson count and uniform times, which is exactly a
    non-homogeneous Poisson process with a piecewise-constant rate.
    """
    first_boundary = lo_ms - (lo_ms + local_ms0) % MS_PER_HOUR + MS_PER_HOUR
    inner = np.arange(first_boundary, hi_ms, MS_PER_HOUR, dtype=np.int64)
    edges = np.concatenate(([lo_ms], inner, [hi_ms])).astype(np.float64)
    widths = np.diff(edges)
    hours = ((edges[:-1] + local_ms0) // MS_PER_HOUR % 24).astype(np.int64)
    counts = rng.poisson(per_hour[hours] * widths / MS_PER_HOUR)
    times = np.repeat(edges[:-1], counts) + rng.random(int(counts.sum())) * np.repeat(
        widths, counts
    )
    return np.sort(times)


def flat_arrivals(rng: np.random.Generator, per_hour: float, lo_ms: int, hi_ms: int) -> Floats:
    """Arrival times in [lo_ms, hi_ms) of a homogeneous Poisson process (`per_hour` mean rate)."""
    count = rng.poisson(per_hour * (hi_ms - lo_ms) / MS_PER_HOUR)
    return np.sort(lo_ms + rng.random(count) * (hi_ms - lo_ms))


def whole_seconds(ms: Floats) -> Ints:
    """Instants rounded to the whole second, as integer milliseconds (what the events carry)."""
    return (np.rint(ms / 1000.0) * 1000.0).astype(np.int64)


def whole_milliseconds(ms: Floats) -> Ints:
    """Instants rounded to the millisecond (Poisson mode: as close to exact as JSON allows)."""
    return np.rint(ms).astype(np.int64)


# Setpoints of the cargo families in DOMAIN.md, with an assumed mix [E].
FROZEN_C = -18.0
CHILLED_C = (2.0, 2.5, 3.0, 3.5, 4.0)
PHARMA_C = 5.0
DURIAN_C = 13.0
CARGO_MIX = (0.40, 0.35, 0.10, 0.15)  # frozen, chilled, pharma, durian

SIZE_TYPES = ("22G1", "45G1", "22R1", "45R1")


def box_types(
    rng: np.random.Generator, n: int, forty_foot_share: float, reefer_share: float
) -> tuple[list[str], Floats]:
    """ISO size-types and reefer setpoints (NaN for dry boxes) of `n` boxes."""
    u = rng.random((n, 4))
    forty = u[:, 0] < forty_foot_share
    reefer = u[:, 1] < reefer_share
    kinds = forty.astype(np.int64) + 2 * reefer.astype(np.int64)
    iso_types = [SIZE_TYPES[kind] for kind in kinds.tolist()]
    family = np.searchsorted(np.cumsum(CARGO_MIX)[:-1], u[:, 2], side="right")
    chilled = np.asarray(CHILLED_C)[(u[:, 3] * len(CHILLED_C)).astype(np.int64)]
    family_setpoint = np.choose(family, [np.full(n, FROZEN_C), chilled, PHARMA_C, DURIAN_C])
    return iso_types, np.where(reefer, family_setpoint, np.nan)


# Well-known owner codes (ISO 6346 BIC, category U): COSCO, OOCL, MSC, Maersk, CMA CGM,
# Hapag-Lloyd, Evergreen, ONE.
OWNER_CODES = (
    "CBHU",
    "CCLU",
    "CSNU",
    "OOLU",
    "MSCU",
    "MEDU",
    "MSKU",
    "MRKU",
    "CMAU",
    "HLXU",
    "EGHU",
    "ONEU",
)
_LETTER_VALUES = dict(
    zip(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        [v for v in range(10, 39) if v % 11 != 0],
        strict=True,
    )
)
_SERIAL_WEIGHTS = np.array([1 << p for p in range(4, 10)], dtype=np.int64)
_SERIAL_PLACES = np.array([10**p for p in range(5, -1, -1)], dtype=np.int64)
SERIALS_PER_YARD = 333_333
_SPREAD = 7_919  # a prime coprime with the numbers of a yard: consecutive boxes look unrelated


class ContainerNumbers:
    """Unique ISO 6346 container numbers for one yard's boxes.

    Each yard draws from one third of the six-digit serial range (its station file's
    `containers.serial_block`) under its owner codes (by default the common carriers above),
    so numbers never repeat within a yard (for the first 4 million boxes, about nine years of
    the busiest yard) nor across yards that differ in block or owner codes. The check digit
    is the ISO 6346 one, computed in bulk.
    """

    __slots__ = ("_issued", "_numbers", "_owner_codes", "_owner_sums", "_slot")

    def __init__(self, yard_slot: int, owner_codes: Sequence[str] = OWNER_CODES) -> None:
        if not 0 <= yard_slot < 3:
            raise ValueError(f"yard slot must be 0, 1 or 2, got {yard_slot}")
        if not 0 < len(owner_codes) < _SPREAD:  # so the spread visits every number
            raise ValueError(f"owner codes: expected 1 to {_SPREAD - 1}, got {len(owner_codes)}")
        self._slot = yard_slot
        self._owner_codes = tuple(owner_codes)
        self._owner_sums = _owner_sums(self._owner_codes)
        self._numbers = len(self._owner_codes) * SERIALS_PER_YARD
        self._issued = 0

    def take(self, n: int) -> list[str]:
        """The next `n` container numbers."""
        index = np.arange(self._issued, self._issued + n, dtype=np.int64)
        self._issued += n
        spread = index * _SPREAD % self._numbers
        owner = spread % len(self._owner_codes)
        serial = self._slot * SERIALS_PER_YARD + spread // len(self._owner_codes)
        digits = serial[:, None] // _SERIAL_PLACES % 10
        total = self._owner_sums[owner] + digits @ _SERIAL_WEIGHTS
        check = total % 11 % 10
        codes = self._owner_codes
        return [
            f"{codes[o]}{s:06d}{c}"
            for o, s, c in zip(owner.tolist(), serial.tolist(), check.tolist(), strict=True)
        ]


def owner_codes(numbers: ContainerNumberSpec) -> tuple[str, ...]:
    """The owner codes of a yard's generated boxes: its own, or the common carriers."""
    return numbers.owner_codes or OWNER_CODES


def _owner_sums(codes: Sequence[str]) -> npt.NDArray[np.int64]:
    """The ISO 6346 check-digit sum of each owner code's four letters."""
    return np.array(
        [sum(_LETTER_VALUES[c] << i for i, c in enumerate(code)) for code in codes],
        dtype=np.int64,
    )

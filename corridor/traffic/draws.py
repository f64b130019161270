"""Random draws for the traffic generator, vectorised with numpy.

Every yard and purpose ("export arrivals", "import pickup", "reefer episodes", ...) has its
own stream, keyed exactly like `stations.random_streams.RandomStream(seed, "generator", yard,
purpose)`, so a yard's traffic does not depend on which other yards are generated, and a new
purpose does not shift the samples of an old one. Draws are made a day at a time in arrays: a
scalar numpy call costs as much as building the event it feeds.
"""

import math

import numpy as np
import numpy.typing as npt

from corridor.traffic.timebase import MS_PER_HOUR, Floats, Ints
from stations.distributions import Constant, Distribution, Exponential, Lognormal, Triangular
from stations.random_streams import stream_key

Bools = npt.NDArray[np.bool_]


def stream(seed: int, yard: str, purpose: str) -> np.random.Generator:
    """The generator's random stream for one yard and purpose."""
    return np.random.default_rng([seed, *stream_key("generator", yard, purpose)])


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
_OWNER_SUMS = np.array(
    [sum(_LETTER_VALUES[c] << i for i, c in enumerate(code)) for code in OWNER_CODES],
    dtype=np.int64,
)
_SERIAL_WEIGHTS = np.array([1 << p for p in range(4, 10)], dtype=np.int64)
_SERIAL_PLACES = np.array([10**p for p in range(5, -1, -1)], dtype=np.int64)
SERIALS_PER_YARD = 333_333
_NUMBERS_PER_YARD = len(OWNER_CODES) * SERIALS_PER_YARD
_SPREAD = 7_919  # a prime coprime with _NUMBERS_PER_YARD: consecutive boxes look unrelated


class ContainerNumbers:
    """Unique ISO 6346 container numbers for one yard's boxes.

    Each corridor yard owns a third of the six-digit serial range, so numbers never repeat
    within a yard (for the first 4 million boxes, about nine years of 团结村) nor across
    yards. The check digit is the ISO 6346 one, computed in bulk.
    """

    __slots__ = ("_issued", "_slot")

    def __init__(self, yard_slot: int) -> None:
        if not 0 <= yard_slot < 3:
            raise ValueError(f"yard slot must be 0, 1 or 2, got {yard_slot}")
        self._slot = yard_slot
        self._issued = 0

    def take(self, n: int) -> list[str]:
        """The next `n` container numbers."""
        index = np.arange(self._issued, self._issued + n, dtype=np.int64)
        self._issued += n
        spread = index * _SPREAD % _NUMBERS_PER_YARD
        owner = spread % len(OWNER_CODES)
        serial = self._slot * SERIALS_PER_YARD + spread // len(OWNER_CODES)
        digits = serial[:, None] // _SERIAL_PLACES % 10
        total = _OWNER_SUMS[owner] + digits @ _SERIAL_WEIGHTS
        check = total % 11 % 10
        return [
            f"{OWNER_CODES[o]}{s:06d}{c}"
            for o, s, c in zip(owner.tolist(), serial.tolist(), check.tolist(), strict=True)
        ]

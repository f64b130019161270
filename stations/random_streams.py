"""Independent, named random streams derived from one seed, one set per replication.

Each yard and each purpose (gate service, lifts, inspection draws, ...) gets its own
`numpy.random.Generator`, so adding a process or a yard never changes another's samples.
Values are drawn in blocks because a scalar numpy call costs about as much as the SimPy step
it feeds.

Replications (`corridor.replications`) repeat a run with independent draws. A stream's seed is
a `numpy.random.SeedSequence` of the seed and the stream's name; replication r > 0 takes that
sequence's spawned child r (`spawn_key=(r,)`, what `SeedSequence.spawn` hands out), so every
replication of every stream is statistically independent of every other, and replication 0 is
the root sequence itself: a single run draws exactly what it drew before replications existed.
"""

import zlib
from collections.abc import Iterator

import numpy as np

_BLOCK = 4096


def stream_key(*names: str) -> list[int]:
    """A stable integer key for a stream name (Python's `hash` is salted per process)."""
    return [zlib.crc32(name.encode()) for name in names]


def stream_seed(seed: int, names: tuple[str, ...], replication: int = 0) -> np.random.SeedSequence:
    """The seed sequence of the stream named `names` in replication `replication` of `seed`."""
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    if replication < 0:
        raise ValueError(f"replication must be non-negative, got {replication}")
    spawn_key = (replication,) if replication else ()
    return np.random.SeedSequence([seed, *stream_key(*names)], spawn_key=spawn_key)


def stream_generator(seed: int, *names: str, replication: int = 0) -> np.random.Generator:
    """A numpy generator on the stream named `names` (as `np.random.default_rng` builds it)."""
    return np.random.Generator(np.random.PCG64(stream_seed(seed, names, replication)))


class RandomStream:
    """Uniform and standard-normal variates from one named stream, drawn in blocks."""

    __slots__ = ("_generator", "_normals", "_uniforms")

    def __init__(self, seed: int, *names: str, replication: int = 0) -> None:
        self._generator = stream_generator(seed, *names, replication=replication)
        self._uniforms: Iterator[float] = iter(())
        self._normals: Iterator[float] = iter(())

    def uniform(self) -> float:
        """A variate on [0, 1)."""
        for value in self._uniforms:  # the next of the block, if any is left
            return value
        self._uniforms = iter(self._generator.random(_BLOCK).tolist())
        return next(self._uniforms)

    def normal(self) -> float:
        """A standard normal variate."""
        for value in self._normals:
            return value
        self._normals = iter(self._generator.standard_normal(_BLOCK).tolist())
        return next(self._normals)

    def chance(self, probability: float) -> bool:
        """True with the given probability."""
        return self.uniform() < probability

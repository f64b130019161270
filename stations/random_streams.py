"""Independent, named random streams derived from one seed.

Each yard and each purpose (gate service, lifts, inspection draws, ...) gets its own
`numpy.random.Generator`, so adding a process or a yard never changes another's samples.
Values are drawn in blocks because a scalar numpy call costs about as much as the SimPy step
it feeds.
"""

import zlib
from collections.abc import Iterator

import numpy as np

_BLOCK = 4096


def stream_key(*names: str) -> list[int]:
    """A stable integer key for a stream name (Python's `hash` is salted per process)."""
    return [zlib.crc32(name.encode()) for name in names]


class RandomStream:
    """Uniform and standard-normal variates from one named stream, drawn in blocks."""

    __slots__ = ("_generator", "_normals", "_uniforms")

    def __init__(self, seed: int, *names: str) -> None:
        if seed < 0:
            raise ValueError(f"seed must be non-negative, got {seed}")
        self._generator = np.random.default_rng([seed, *stream_key(*names)])
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

"""Independent, named random streams derived from one seed.

Each yard and each purpose (gate service, lifts, inspection draws, ...) gets its own
`numpy.random.Generator`, so adding a process or a yard never changes another's samples.
Values are drawn in blocks because a scalar numpy call costs about as much as the SimPy step
it feeds.
"""

import zlib

import numpy as np

_BLOCK = 4096


def stream_key(*names: str) -> list[int]:
    """A stable integer key for a stream name (Python's `hash` is salted per process)."""
    return [zlib.crc32(name.encode()) for name in names]


class RandomStream:
    """Uniform and standard-normal variates from one named stream, drawn in blocks."""

    __slots__ = ("_generator", "_normal_at", "_normals", "_uniform_at", "_uniforms")

    def __init__(self, seed: int, *names: str) -> None:
        if seed < 0:
            raise ValueError(f"seed must be non-negative, got {seed}")
        self._generator = np.random.default_rng([seed, *stream_key(*names)])
        self._uniforms: list[float] = []
        self._uniform_at = 0
        self._normals: list[float] = []
        self._normal_at = 0

    def uniform(self) -> float:
        """A variate on [0, 1)."""
        if self._uniform_at == len(self._uniforms):
            self._uniforms = self._generator.random(_BLOCK).tolist()
            self._uniform_at = 0
        value = self._uniforms[self._uniform_at]
        self._uniform_at += 1
        return value

    def normal(self) -> float:
        """A standard normal variate."""
        if self._normal_at == len(self._normals):
            self._normals = self._generator.standard_normal(_BLOCK).tolist()
            self._normal_at = 0
        value = self._normals[self._normal_at]
        self._normal_at += 1
        return value

    def chance(self, probability: float) -> bool:
        """True with the given probability."""
        return self.uniform() < probability

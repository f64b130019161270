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

import operator
import zlib
from collections.abc import Iterator, Mapping
from typing import Any

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


PlainState = tuple[str, str, int, int]
"""A PCG64 state as plain data: state and increment (128-bit, as decimal strings), has_uint32,
uinteger."""


class RandomStream:
    """Uniform and standard-normal variates from one named stream, drawn in blocks.

    The state each block was drawn from is kept (once per block), so a snapshot can say where
    the stream is as plain data (`plain_state`) and a restored stream draws the same values.
    """

    __slots__ = ("_generator", "_normal_from", "_normals", "_uniform_from", "_uniforms")

    def __init__(self, seed: int, *names: str, replication: int = 0) -> None:
        self._generator = stream_generator(seed, *names, replication=replication)
        self._uniforms: Iterator[float] = iter(())
        self._normals: Iterator[float] = iter(())
        self._uniform_from: Mapping[str, Any] | None = None
        self._normal_from: Mapping[str, Any] | None = None

    def uniform(self) -> float:
        """A variate on [0, 1)."""
        for value in self._uniforms:  # the next of the block, if any is left
            return value
        self._uniform_from = self._generator.bit_generator.state
        self._uniforms = iter(self._generator.random(_BLOCK).tolist())
        return next(self._uniforms)

    def normal(self) -> float:
        """A standard normal variate."""
        for value in self._normals:
            return value
        self._normal_from = self._generator.bit_generator.state
        self._normals = iter(self._generator.standard_normal(_BLOCK).tolist())
        return next(self._normals)

    def plain_state(
        self,
    ) -> tuple[PlainState, PlainState | None, int, PlainState | None, int]:
        """(state now, uniform block's origin, uniforms left, normal block's origin, left)."""
        uniforms_left = operator.length_hint(self._uniforms)
        normals_left = operator.length_hint(self._normals)
        return (
            _plain(self._generator.bit_generator.state),
            _plain(self._uniform_from) if uniforms_left else None,
            uniforms_left,
            _plain(self._normal_from) if normals_left else None,
            normals_left,
        )

    def set_plain_state(
        self,
        now: PlainState,
        uniform_from: PlainState | None,
        uniforms_left: int,
        normal_from: PlainState | None,
        normals_left: int,
    ) -> None:
        """Put the stream where `plain_state` found it: the blocks in use are drawn again from
        their origins and cut to what was left."""
        bits = self._generator.bit_generator
        self._uniforms, self._normals = iter(()), iter(())
        self._uniform_from = self._normal_from = None
        if uniform_from is not None and uniforms_left:
            self._uniform_from = bits.state = _numpy_state(uniform_from)
            block = self._generator.random(_BLOCK).tolist()
            self._uniforms = iter(block[_BLOCK - uniforms_left :])
        if normal_from is not None and normals_left:
            self._normal_from = bits.state = _numpy_state(normal_from)
            block = self._generator.standard_normal(_BLOCK).tolist()
            self._normals = iter(block[_BLOCK - normals_left :])
        bits.state = _numpy_state(now)

    def chance(self, probability: float) -> bool:
        """True with the given probability."""
        return self.uniform() < probability


def _plain(state: Mapping[str, Any] | None) -> PlainState:
    assert state is not None
    assert state["bit_generator"] == "PCG64"
    inner = state["state"]
    return (str(inner["state"]), str(inner["inc"]), state["has_uint32"], state["uinteger"])


def _numpy_state(plain: PlainState) -> dict[str, Any]:
    state, inc, has_uint32, uinteger = plain
    return {
        "bit_generator": "PCG64",
        "state": {"state": int(state), "inc": int(inc)},
        "has_uint32": has_uint32,
        "uinteger": uinteger,
    }

"""When `corridor publish` sends each event: as fast as the broker takes it, or paced in event time.

A yard's systems send an event when it happens. A recorded or generated log played to a live
worker imitates that by keeping the events' spacing in event time, compressed by a speed factor
(`speed=60`: an hour of the log per minute of wall time). A `Pacing` is a schedule of such
factors over event time: events before its first step go as fast as the broker takes them (a
warm-up the worker catches up on), and from each step's event time on the events keep their
spacing at that step's speed. With `not_ahead_of_clock`, no event is sent before the wall clock
has reached its event time: a feed that has caught up with the present goes on in real time, as
a yard would, so its events are never refused as stamped in the future
(`KafkaSettings.max_future_skew`, `streams.input_checks`). `corridor up` uses all three.
"""

import argparse
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from corridor.engine.clock import aware_datetime


@dataclass(frozen=True, slots=True)
class PaceStep:
    """From event time `start` on (None: the first event's), the spacing divided by `speed`."""

    start: datetime | None
    speed: float


@dataclass(frozen=True, slots=True)
class Pacing:
    """A schedule of speeds over event time, in order (see the module docstring)."""

    steps: tuple[PaceStep, ...] = ()
    not_ahead_of_clock: bool = False

    def __post_init__(self) -> None:
        for step in self.steps:
            if not step.speed > 0:
                raise ValueError(f"speed must be positive, got {step.speed}")
        if any(step.start is None for step in self.steps[1:]):
            raise ValueError("only the first pace step may start at the first event")
        starts = [step.start for step in self.steps if step.start is not None]
        if any(later <= earlier for earlier, later in itertools.pairwise(starts)):
            raise ValueError("pace steps must be in increasing event time")

    @classmethod
    def uniform(cls, speed: float | None) -> "Pacing":
        """One speed from the first event on (`speed=None`: as fast as possible)."""
        if speed is None:
            return cls()
        if not speed > 0:
            raise ValueError(f"speed must be positive, got {speed}")
        return cls((PaceStep(None, speed),))

    def clock(self) -> "PaceClock":
        """A fresh clock that places events in wall time as they come."""
        return PaceClock(self)


class PaceClock:
    """Wall-clock due times (seconds since the epoch) of events given in event-time order.

    The schedule's clock starts when the first paced event comes (the warm-up before it takes
    what it takes); after that, each step continues where the last one ended.
    """

    def __init__(self, pacing: Pacing) -> None:
        self.pacing = pacing
        self._step = -1  # the step the last paced event fell in
        self._anchor_ts: datetime | None = None  # event time of the current anchor
        self._anchor_wall = 0.0  # its wall time (epoch seconds)

    def due(self, ts: datetime, now: float) -> float | None:
        """When to send an event stamped `ts` (epoch seconds), or None for at once."""
        paced = self._paced_due(ts, now)
        if self.pacing.not_ahead_of_clock:
            at_clock = ts.timestamp()
            return at_clock if paced is None else max(paced, at_clock)
        return paced

    def _paced_due(self, ts: datetime, now: float) -> float | None:
        steps = self.pacing.steps
        index = self._step_of(ts)
        if index < 0:
            return None
        if self._anchor_ts is None:  # the first paced event: the schedule starts now
            self._step, self._anchor_ts, self._anchor_wall = index, _start(steps[index], ts), now
        while self._step < index:  # carry the wall clock over the steps passed
            following = _start(steps[self._step + 1], ts)
            self._anchor_wall += _seconds(self._anchor_ts, following) / steps[self._step].speed
            self._step, self._anchor_ts = self._step + 1, following
        return self._anchor_wall + _seconds(self._anchor_ts, ts) / steps[self._step].speed

    def _step_of(self, ts: datetime) -> int:
        index = -1
        for position, step in enumerate(self.pacing.steps):
            if step.start is None or ts >= step.start:
                index = position
        return max(index, self._step)  # event time that goes back stays in its step


def _start(step: PaceStep, ts: datetime) -> datetime:
    return ts if step.start is None else step.start


def _seconds(start: datetime, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds())


def pace_step(text: str) -> PaceStep:
    """`TIME=SPEED` from the command line (`2026-11-30T12:00:00+08:00=60`)."""
    moment, sep, speed = text.rpartition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected TIME=SPEED, got {text!r}")
    try:
        factor = float(speed)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{speed!r} is not a speed factor") from None
    if not factor > 0:
        raise argparse.ArgumentTypeError(f"the speed must be positive, got {speed}")
    return PaceStep(aware_datetime(moment), factor)


def pacing_of(
    speed: float | None, steps: Sequence[PaceStep] | None, *, not_ahead_of_clock: bool
) -> Pacing:
    """`corridor publish`'s schedule: `--speed` or `--pace` steps, and `--no-future`."""
    if speed is not None and steps:
        raise ValueError("give either --speed or --pace, not both")
    base = Pacing.uniform(speed) if speed is not None else Pacing(tuple(steps or ()))
    return Pacing(base.steps, not_ahead_of_clock=not_ahead_of_clock)

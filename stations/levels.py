"""Level statistics: quantities that change over time (salabim's `Monitor`, kept lean).

A queue length or an occupancy is recorded as a step function: a point at every change,
holding until the next. Points are stored column-wise in `array('d')` because a year of three
yards makes millions of them; several changes at one instant collapse into the last value.
"""

from array import array

from stations.types import Minutes


class LevelSeries:
    """One level of one yard: `value` now, and the step function of its history."""

    __slots__ = ("times", "value", "values")

    def __init__(self) -> None:
        self.times = array("d", [0.0])
        self.values = array("d", [0.0])
        self.value = 0.0

    def change(self, now: Minutes, delta: float) -> None:
        """Add `delta` to the level at time `now`."""
        self.value += delta
        if self.times[-1] == now:
            self.values[-1] = self.value
        else:
            self.times.append(now)
            self.values.append(self.value)

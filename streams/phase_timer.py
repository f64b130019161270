"""Where the worker's wall time goes, by phase of its loop: for the progress log and benchmarks.

Phases (`PHASES`): consume, the broker client; decode, decode, dedup, buffer and archive
entries; engine, applying released events and running the clocks (plus draining records and
yard views); snapshots, KPI snapshots; deliver, producing and flushing dead letters and
snapshots; commit, waiting for the store transaction (while catching up it runs beside the
next batch, see `streams.commits`, so this is only the part the worker waited for).
"""

import time
from collections import defaultdict

PHASES = ("consume", "decode", "engine", "snapshots", "deliver", "commit")


class PhaseTimer:
    """Seconds per phase, taken as laps of one stopwatch (`start`, then `lap` per phase)."""

    def __init__(self) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self._mark = time.perf_counter()

    def start(self) -> None:
        """Start timing the next phase now."""
        self._mark = time.perf_counter()

    def lap(self, phase: str) -> None:
        """The time since the last mark went to `phase`; the next phase starts now."""
        now = time.perf_counter()
        self.seconds[phase] += now - self._mark
        self._mark = now

    def move(self, seconds: float, *, source: str, target: str) -> None:
        """Count `seconds` already counted in `source` in `target` instead (a nested phase)."""
        self.seconds[source] -= seconds
        self.seconds[target] += seconds

    def summary(self) -> str:
        """ "consume 1.2, decode 0.4, ..." in `PHASES` order."""
        return ", ".join(f"{name} {self.seconds[name]:.1f}" for name in PHASES)

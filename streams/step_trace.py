"""A worker's steps as timed lines in a file: where produce-to-KPI latency goes, event by event.

Off unless `KafkaSettings.step_trace` names a file. Then each step of the worker's loop appends
one JSON line of marks: when its `consume` returned (`consumed`) and how many messages it got
(`n`), the newest event time accepted so far (`received`, micros), the watermark after the step
(`watermark`), a KPI snapshot's moment and when its computation began and ended (`as_of`,
`snapshot`, `snapshot_end`), the yard views' refresh (`views`, `views_end`), when its outputs
were flushed to the broker (`delivered`), when its commit was handed over (`committed`: after
waiting for the previous one, and after a foreground commit) and when the step ended (`done`).
Times are `time.perf_counter()`:
CLOCK_MONOTONIC on Linux, one clock for every process of the machine, so a benchmark joins them
with its own (`benchmarks/bench_worker.py`'s latency decomposition). The file is written through
a buffer and closed with the worker; a line costs a few microseconds.
"""

import gc
import json
import time
from pathlib import Path
from typing import IO


class StepTrace:
    """Marks of the current step, written out as one line when it ends (or nothing, if off)."""

    def __init__(self, path: Path | None) -> None:
        self._file: IO[str] | None = path.open("a", encoding="utf-8") if path else None
        self._marks: dict[str, float | int | None] = {}
        self._gc_began = 0.0
        if self._file is not None:
            gc.callbacks.append(self._collected)

    def _collected(self, phase: str, info: dict[str, int]) -> None:
        """A cyclic garbage collection: its seconds added up per step (`gc`), and the oldest
        generation collected (`gc_generation`)."""
        if phase == "start":
            self._gc_began = time.perf_counter()
            return
        marks = self._marks
        marks["gc"] = float(marks.get("gc") or 0.0) + time.perf_counter() - self._gc_began
        marks["gc_generation"] = max(int(marks.get("gc_generation") or 0), info["generation"])

    @property
    def on(self) -> bool:
        """Whether steps are traced (callers skip computing a mark's value when not)."""
        return self._file is not None

    def mark(self, name: str, value: float | int | None = None) -> None:
        """Note `value` under `name` for this step, or the time now if no value is given."""
        if self._file is not None:
            self._marks[name] = time.perf_counter() if value is None else value

    def end(self) -> None:
        """The step is over: its marks become a line (a step that marked nothing, none)."""
        if self._file is not None and self._marks:
            self._marks["done"] = time.perf_counter()
            self._file.write(json.dumps(self._marks, separators=(",", ":")) + "\n")
            self._marks = {}

    def close(self) -> None:
        """Write what is buffered and stop tracing."""
        if self._file is not None:
            self._file.close()
            self._file = None
            gc.callbacks.remove(self._collected)

"""The live worker's cyclic garbage collection: the settled twin frozen out of the collected
generations, so no collection rescans it.

A process tuned as a twin's (`corridor.runtime.tune_gc_for_a_long_lived_twin`) collects its
young generation every 100,000 net allocations and its middle one every 1,000 of those; every
object that survived a young collection waits in the middle one: a loaded or caught-up twin's,
hundreds of thousands of them. The collection that rescans them (hours apart live, during a
long catch-up too) costs about half a millisecond per thousand (`benchmarks/bench_gc_pauses.py`:
200 ms for a twin of 200,000 events, 400,000 objects; 2 ms frozen). So whenever the twin
has settled, as the worker loads it and, live, after each day of event time it forgot (a
catch-up's days once, at its end: settling each of them cost 10 % more CPU an event), what is
not frozen yet is collected (all generations: the objects since the last freeze, not the
frozen twin) and the survivors frozen (`gc.freeze`): no collection scans them again. Reference
counting still frees what the twin forgets (it makes no reference cycles:
`tests/test_engine_garbage.py`). A twin a group member hands over may hold cycles (its
SimPy processes), so it is unfrozen when dropped and collected at the next settling.

The policy is the process's, as the thresholds are: it acts only in a process whose collector
is tuned as a twin's (`corridor worker`, the benchmarks), not in a library caller's or a test's.
Collecting at a quiet moment instead was measured and left (`docs/performance.md`, "gcpause").
"""

import gc

from corridor.runtime import GC_THRESHOLDS


class GcPolicy:
    """When the live worker collects and freezes its twin (see the module)."""

    def __init__(self, *, active: bool | None = None) -> None:
        self.active = gc.get_threshold() == GC_THRESHOLDS if active is None else active
        self.settled = 0  # how many times the twin was frozen

    def settle(self) -> None:
        """The twin settled (loaded, or live with a day forgotten): collect what is not frozen
        yet and freeze what survives."""
        if self.active:
            gc.collect()
            gc.freeze()
            self.settled += 1

    def release(self) -> None:
        """The twin is dropped: unfrozen, so the next settling collects its cycles."""
        if self.active:
            gc.unfreeze()

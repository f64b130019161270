"""Process settings for a long-lived twin (a replay, a simulation, the worker)."""

import gc

GC_THRESHOLDS = (100_000, 1_000, 1_000)


def tune_gc_for_a_long_lived_twin() -> None:
    """Collect garbage cycles rarely: for a twin's own process, not for a library caller.

    A twin keeps millions of long-lived objects (records, open boxes, the accepted ids), and
    the default thresholds (700 allocations) make the cyclic collector rescan them over and
    over: measured, a quarter of a catch-up's time. The twin's hot path makes no reference
    cycles (a year's replay leaves a few hundred objects to the collector; its actors and
    events are freed by reference counting), so the young generation is collected every
    100,000 allocations and the older ones almost never: a year's replay then runs about as
    fast as with the collector off (measured: engine 24-27 s, against 27-29 s at (100,000, 50,
    100) and 31 s when actors still made cycles).
    """
    gc.set_threshold(*GC_THRESHOLDS)

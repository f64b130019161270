"""Process settings for a long-lived twin (a replay, a simulation, the worker)."""

import gc

GC_THRESHOLDS = (100_000, 1_000, 1_000)


def tune_gc_for_a_long_lived_twin() -> None:
    """Collect garbage cycles rarely: for a twin's own process, not for a library caller.

    A twin keeps millions of long-lived objects (records, open boxes, the accepted ids), and
    the default thresholds (700 allocations) make the cyclic collector rescan them over and
    over. The twin's hot path makes no reference cycles (its actors and events are freed by
    reference counting; `tests/test_engine_garbage.py` fails if a replay leaves cycles), so the
    young generation is collected every 100,000 allocations and the older ones almost never.
    """
    gc.set_threshold(*GC_THRESHOLDS)

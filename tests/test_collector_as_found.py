"""`tests/conftest.py` puts the garbage collector's thresholds back after each test: a
`corridor` command run in process (a test's, or a module fixture's) tunes them for a long-lived
twin (`corridor.runtime`), and without the fixture every later test in that worker process ran
with the twin's settings. The
two tests run in file order (no random-order plugin; `--dist loadfile` keeps a file in one
process)."""

import gc

from corridor.runtime import GC_THRESHOLDS, tune_gc_for_a_long_lived_twin

FOUND = gc.get_threshold()  # at collection, before any test or fixture ran


def test_a_test_that_tunes_the_collector() -> None:
    tune_gc_for_a_long_lived_twin()
    assert gc.get_threshold() == GC_THRESHOLDS


def test_the_next_test_finds_the_collector_as_before() -> None:
    assert FOUND != GC_THRESHOLDS  # else this proves nothing
    assert gc.get_threshold() == FOUND

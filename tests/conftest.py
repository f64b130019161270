"""Shared fixtures: the store and API ones, the embedded broker ones, headless Chromium, the
baseline yards; and the check that every module stops what it starts (`tests.leak_check`)."""

import gc
from collections.abc import Iterator

import pytest

pytest_plugins = [
    "tests.leak_check",  # first: `tests.broker_fixtures` imports it
    "tests.api_fixtures",
    "tests.broker_fixtures",
    "tests.chromium",
    "tests.traffic_fixtures",
]


@pytest.fixture(autouse=True)
def _collector_as_found() -> Iterator[None]:
    """Each test leaves the cyclic collector as it found it: one that runs a `corridor` command
    in this process tunes it as a twin's (`corridor.runtime`), and a later test's worker would
    then freeze this whole process (`streams.gc_policy`)."""
    thresholds = gc.get_threshold()
    yield
    gc.set_threshold(*thresholds)
    gc.unfreeze()

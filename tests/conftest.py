"""Shared fixtures: the store and API ones, the embedded broker ones, headless Chromium, the
baseline yards; the check that every module stops what it starts (`tests.leak_check`); and the
collector's thresholds put back after each test."""

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


AT_START = gc.get_threshold()  # before any test, fixture or command could tune them


@pytest.fixture(autouse=True)
def collector_as_found() -> Iterator[None]:
    """Each test ends with the garbage collector's thresholds as the session started: a
    `corridor` command run in process (in a test or a module's fixture) tunes them for a
    long-lived twin (`corridor.runtime`), and every later test in the worker process ran with
    them."""
    yield
    gc.set_threshold(*AT_START)

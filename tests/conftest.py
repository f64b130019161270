"""Shared fixtures: the store and API ones, the embedded broker ones, headless Chromium, the
baseline yards; and the check that every module stops what it starts (`tests.leak_check`)."""

pytest_plugins = [
    "tests.leak_check",  # first: `tests.broker_fixtures` imports it
    "tests.api_fixtures",
    "tests.broker_fixtures",
    "tests.chromium",
    "tests.traffic_fixtures",
]

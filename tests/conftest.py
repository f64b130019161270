"""Shared fixtures: the store and API ones, the embedded broker ones, headless Chromium, the
baseline yards."""

pytest_plugins = [
    "tests.api_fixtures",
    "tests.broker_fixtures",
    "tests.chromium",
    "tests.traffic_fixtures",
]

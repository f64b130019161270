"""Shared fixtures: the store and API ones, the embedded broker ones, headless Chromium."""

pytest_plugins = ["tests.api_fixtures", "tests.broker_fixtures", "tests.chromium"]

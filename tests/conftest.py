"""Shared fixtures: the store and API ones, and the embedded broker ones."""

pytest_plugins = ["tests.api_fixtures", "tests.broker_fixtures"]

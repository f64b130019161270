"""Typed readers of one station table's fields: each error names the key, as `gate.lanes`.

Used by `stations.spec` to validate a station file (or a scenario override merged into it);
the messages are what a person editing a TOML file needs to find the line.
"""

import re
from typing import Any

from stations.distributions import Distribution, parse_distribution


def subtable(table: dict[str, Any], key: str) -> dict[str, Any]:
    """The table under `key`, which must be one."""
    value = table.get(key)
    if not isinstance(value, dict):
        raise ValueError(f"{key}: missing (expected a table [{key}])")
    return value


def matching(table: dict[str, Any], dotted: str, pattern: re.Pattern[str], what: str) -> str:
    """A string field that must match `pattern`; `what` says in words what it should be."""
    value = leaf(table, dotted)
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ValueError(f"{dotted}: expected {what}, got {value!r}")
    return value


def leaf(table: dict[str, Any], dotted: str) -> Any:
    """The value of the last part of `dotted` in `table`, which must be present."""
    key = dotted.rsplit(".", 1)[-1]
    if key not in table:
        raise ValueError(f"{dotted}: missing")
    return table[key]


def text(table: dict[str, Any], key: str, where: str = "") -> str:
    """A non-empty string field."""
    value = table.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{where + '.' if where else ''}{key}: expected a non-empty string")
    return value


def number(table: dict[str, Any], dotted: str) -> float:
    """A number field (int or float, never a bool), as float."""
    value = leaf(table, dotted)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{dotted}: expected a number, got {value!r}")
    return float(value)


def count(table: dict[str, Any], dotted: str) -> int:
    """A whole number of at least 1."""
    value = leaf(table, dotted)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{dotted}: expected a whole number of at least 1, got {value!r}")
    return value


def share(table: dict[str, Any], dotted: str) -> float:
    """A number between 0 and 1."""
    value = number(table, dotted)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{dotted}: expected a share between 0 and 1, got {value}")
    return value


def dist(table: dict[str, Any], dotted: str) -> Distribution:
    """A distribution table (`stations.distributions`)."""
    return parse_distribution(dotted, leaf(table, dotted))

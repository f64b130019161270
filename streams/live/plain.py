"""Plain data from the twin's view dataclasses, as `dataclasses.asdict` gives it, but cheaper.

`dataclasses.asdict` deep-copies every leaf value (`copy.deepcopy` of each datetime and str),
which made the yard views (a thousand old boxes, the reefers, the yard states) a third of a
live KPI snapshot's cost. The views' leaves are immutable (str, int, float, bool, None,
datetime), so sharing them gives the same dicts: dataclasses become dicts field by field,
lists and tuples are copied, everything else is kept as it is.
"""

import dataclasses
from typing import Any


def plain(value: Any) -> Any:
    """`value` with every dataclass instance turned into a dict of its fields, recursively."""
    names = _fields_of(type(value))
    if names is not None:
        return {name: plain(getattr(value, name)) for name in names}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, tuple):
        return (
            type(value)(*map(plain, value))
            if hasattr(value, "_fields")
            else tuple(map(plain, value))
        )
    if isinstance(value, dict):
        return {plain(key): plain(item) for key, item in value.items()}
    return value


_FIELDS: dict[type, tuple[str, ...] | None] = {}


def _fields_of(kind: type) -> tuple[str, ...] | None:
    """The field names of a dataclass type (None: not a dataclass), found once per type."""
    if kind not in _FIELDS:
        names = None
        if dataclasses.is_dataclass(kind):
            names = tuple(field.name for field in dataclasses.fields(kind))
        _FIELDS[kind] = names
    return _FIELDS[kind]

"""Schema errors as one line a person editing a TOML file can act on: the path, then the reason.

The station and scenario schemas are msgspec structs (`stations.spec`, `corridor.scenario`);
msgspec reports a failure as "Expected `int` >= 1 - at `$.gate.lanes`". `convert` turns that
into `SpecError("gate.lanes", "expected a whole number of at least 1, got 0")`, looking the
offending value up in the input so the message shows it. A `__post_init__` check names its
field first ("serial_block: expected 0, 1 or 2"); the field is appended to the path.
"""

import difflib
import re
from collections.abc import Mapping
from datetime import datetime
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import msgspec

_AT = re.compile(r"^(?P<reason>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_UNKNOWN = re.compile(r"Object contains unknown field `(?P<name>.+)`")
_MISSING = re.compile(r"Object missing required field `(?P<name>.+)`")
_TAG = re.compile(r"Invalid value (?P<value>.+)")
_TYPE = re.compile(r"Expected `(?P<type>\w+)`(?P<more> with .+|, got `\w+`)?")
_BOUND = re.compile(r"Expected `(?P<type>\w+)` (?P<op>>=|>|<=|<) (?P<bound>\S+)")
_REGEX = re.compile(r"Expected `str` matching regex (?P<regex>'.*')")
_LENGTH = re.compile(r"Expected `(?P<type>\w+)` of length (?P<op>>=|<=) (?P<bound>\d+)")
_FIELD_FIRST = re.compile(r"^(?P<name>[a-z_][a-z0-9_]*(?:\[\d+\])?): (?P<reason>.*)$", re.DOTALL)
_WORDS = {
    "int": "a whole number",
    "float": "a number",
    "str": "a string",
    "bool": "true or false",
    "array": "a list",
    "object": "a table",
    "datetime": "an RFC 3339 date-time",
}
_OPS = {">=": "of at least", ">": "above", "<=": "of at most", "<": "below"}


class SpecError(ValueError):
    """A field that fails the schema: `path` (dotted, with [i] for list items) and `reason`."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}" if path else reason)
        self.path = path
        self.reason = reason

    def at(self, prefix: str) -> str:
        """The one-line message with `prefix` (a file, or `stations.<id>`) before the path."""
        return f"{join(prefix, self.path)}: {self.reason}"


def join(prefix: str, path: str) -> str:
    """`prefix` and `path` as one dotted path (a list index is not preceded by a dot)."""
    if not prefix or not path:
        return prefix or path
    return f"{prefix}{path}" if path.startswith("[") else f"{prefix}.{path}"


def convert(raw: Any, kind: Any, *, patterns: Mapping[str, str] | None = None) -> Any:
    """`raw` (a TOML table) as `kind`, or a `SpecError` naming the path; `patterns` put
    regular expressions of string fields into words ("a colour #rrggbb")."""
    try:
        return msgspec.convert(raw, kind)
    except msgspec.ValidationError as error:
        raise explain(str(error), raw, kind, patterns or {}) from None


def explain(message: str, raw: Any, kind: Any, patterns: Mapping[str, str]) -> SpecError:
    """The `SpecError` for one msgspec validation message about `raw` (read as `kind`)."""
    match = _AT.match(message)
    assert match is not None  # the pattern matches any text
    reason, path = match["reason"], (match["path"] or "").lstrip(".")
    if found := _UNKNOWN.fullmatch(reason):
        return SpecError(join(path, found["name"]), _unknown(found["name"], kind, raw, path))
    if found := _MISSING.fullmatch(reason):
        return SpecError(join(path, found["name"]), "missing")
    if (found := _TAG.fullmatch(reason)) and path.endswith("dist"):
        listed = "docs/scenarios.md lists them"
        return SpecError(path, f"unknown distribution {found['value']} ({listed})")
    if found := _FIELD_FIRST.match(reason):
        return SpecError(join(path, found["name"]), found["reason"])
    expected = _expected(reason, patterns)
    if expected is None:  # a check in `__post_init__` says it in its own words
        return SpecError(path, reason)
    return SpecError(path, f"{expected}, got {_shown(value_at(raw, path))}")


def _unknown(name: str, kind: Any, raw: Any, path: str) -> str:
    """ "unknown key", with the field it most likely misspells, or the fields there are."""
    fields = _field_names(kind, raw, path)
    close = difflib.get_close_matches(name, fields, n=1, cutoff=0.6)
    if close:
        return f"unknown key; did you mean {close[0]!r}?"
    return f"unknown key; expected one of {', '.join(sorted(fields))}" if fields else "unknown key"


def _field_names(kind: Any, raw: Any, path: str) -> list[str]:
    """The fields of the struct at `path` when `raw` is read as `kind` (tags picked by value)."""
    for key, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        kind = _struct_in(kind, raw)
        if index:
            kind = next(iter(get_args(kind)), None)
        elif kind is not None and _is_struct(kind):
            kind = {info.name: info.type for info in msgspec.structs.fields(kind)}.get(key)
        raw = value_at(raw, key or f"[{index}]")
    kind = _struct_in(kind, raw)
    return [info.name for info in msgspec.structs.fields(kind)] if _is_struct(kind) else []


def _struct_in(kind: Any, raw: Any) -> Any:
    """`kind` without `Annotated`; of a union, the member struct whose tag `raw` carries."""
    while get_origin(kind) is Annotated:
        kind = get_args(kind)[0]
    members = get_args(kind) if get_origin(kind) in (Union, UnionType) else ()
    for member in members:
        tag = getattr(getattr(member, "__struct_config__", None), "tag", None)
        if _is_struct(member) and (
            tag is None or (isinstance(raw, dict) and raw.get("dist") == tag)
        ):
            return member
    return kind


def _is_struct(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, msgspec.Struct)


def _expected(reason: str, patterns: Mapping[str, str]) -> str | None:
    if found := _REGEX.fullmatch(reason):
        regex = found["regex"][1:-1]
        return f"expected {patterns.get(regex, f'text matching {regex}')}"
    if found := _LENGTH.fullmatch(reason):
        what = _WORDS.get(found["type"], found["type"])
        items = "characters" if found["type"] == "str" else "items"
        return f"expected {what} {_OPS[found['op']]} {found['bound']} {items}"
    if found := _BOUND.fullmatch(reason):
        what = _WORDS.get(found["type"], found["type"])
        return f"expected {what} {_OPS[found['op']]} {found['bound']}"
    if found := _TYPE.fullmatch(reason):
        more = found["more"] or ""
        return f"expected {_WORDS.get(found['type'], found['type'])}" + (
            more if more.startswith(" with") else ""
        )
    return None


def value_at(raw: Any, path: str) -> Any:
    """The value at a msgspec path (`a.b[2].c`) in `raw`, or None when it is not there."""
    for key, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        if index and isinstance(raw, list) and int(index) < len(raw):
            raw = raw[int(index)]
        elif key and isinstance(raw, dict) and key in raw:
            raw = raw[key]
        else:
            return None
    return raw


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, datetime):
        return value.isoformat()
    return repr(value)

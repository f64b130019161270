"""What a report was computed from, pinned by digests: the scenario and the input events.

A `kpis.json` is a function of (station specs, scenario, seed, ordered events); its `run`
block names each, so two reports can be compared knowing whether they ran the same thing:

- `scenario`: the scenario's name and the sha256 of its *effective* content, every yard's
  station spec after the scenario's overrides, written canonically (so a comment, the order of
  keys or `2` against `2.0` in a file changes nothing, and any figure that changes the model
  changes the digest);
- `input`: `log` with the sha256 of the log file's bytes (a replay), or `generated` with the
  sha256 of the generator's parameters (a simulation: the same parameters generate the same
  events, and hashing millions of generated events would cost more than the run).

Digests are written `sha256:<64 hex digits>`.
"""

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from corridor.kpis.result import InputInfo, ScenarioInfo
from stations.spec import StationSpec

_CHUNK = 1 << 20  # bytes read at a time while hashing a log


def scenario_info(name: str, stations: Mapping[str, StationSpec]) -> ScenarioInfo:
    """The scenario's name and the digest of its effective station specs."""
    content = {station_id: _canonical(spec) for station_id, spec in stations.items()}
    return ScenarioInfo(name=name, digest=_digest(_canonical_json(content)))


def log_input(path: Path) -> InputInfo:
    """A replayed log: the sha256 of the file's bytes, as stored (compressed or not)."""
    sha = hashlib.sha256()
    with Path(path).open("rb") as log:
        while chunk := log.read(_CHUNK):
            sha.update(chunk)
    return InputInfo(kind="log", digest=f"sha256:{sha.hexdigest()}")


def generated_input(parameters: Mapping[str, Any]) -> InputInfo:
    """Generated events: the sha256 of "generated" and the generator's parameters."""
    return InputInfo(kind="generated", digest=_digest(b"generated" + _canonical_json(parameters)))


def _canonical(value: Any) -> Any:
    """A spec as plain JSON data: dataclasses and msgspec structs as objects named by their type
    (a distribution's type matters as much as its figures), tuples as lists; fields not compared
    are left out."""
    if isinstance(value, msgspec.Struct):
        names = value.__struct_fields__
        return {"type": type(value).__name__, **{n: _canonical(getattr(value, n)) for n in names}}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {
            field.name: _canonical(getattr(value, field.name))
            for field in dataclasses.fields(value)
            if field.compare
        }
        return {"type": type(value).__name__, **fields}
    if isinstance(value, Mapping):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # 2.0 and 2 are the same figure
    return value


def _canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _digest(content: bytes) -> str:
    return f"sha256:{hashlib.sha256(content).hexdigest()}"

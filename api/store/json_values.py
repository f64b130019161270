"""Worker outputs as JSON values for the store's JSON columns.

`jsonable` walks any output (datetimes as RFC 3339, NaN as null); `json_data` does the same in C
through msgspec for data without datetimes (KPI figures, partials), which is where a live
snapshot's commit spent its time.
"""

import math
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import msgspec
import numpy as np


def jsonable(value: Any) -> Any:
    """A worker's output as JSON: mappings, sequences, aware datetimes (RFC 3339), NaN -> null."""
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _numpy_scalar(value: Any) -> Any:
    """A numpy number as the Python number it holds (msgspec knows only Python's)."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} has no JSON form")


_json_encoder = msgspec.json.Encoder(enc_hook=_numpy_scalar)
_json_decoder = msgspec.json.Decoder()


def json_data(value: Any) -> Any:
    """`jsonable` for data without datetimes (KPI figures, partials), in C: msgspec writes NaN
    and infinities as null and keeps float values exactly, so the result is `jsonable`'s; the
    commit of a live snapshot spent a quarter of its time walking partials in Python."""
    return _json_decoder.decode(_json_encoder.encode(value))

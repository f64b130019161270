"""Worker outputs as JSON values for the store's JSON columns.

`jsonable` walks any output (datetimes as RFC 3339, NaN as null); `json_data` does the same in C
through msgspec for data without datetimes (KPI figures, partials), which is where a live
snapshot's commit spent its time. `json_text` is the store engines' JSON column serializer.
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


def json_text(value: Any) -> str:
    """A JSON column's text, in C through msgspec: the engines' `json_serializer`.

    SQLAlchemy's default, the standard library's `json.dumps`, was a third of a live snapshot's
    commit (KPI figures and partials, already plain data). Every writer hands the columns data
    that `jsonable` or `json_data` made (NaN already null, as the readers expect), so the text
    parses to what the standard library's did; the difference left is a non-finite float
    handed in directly, written null here where `json.dumps` wrote `NaN` (which PostgreSQL's
    JSON type refused anyway). Numpy numbers are written as the Python numbers they hold.
    """
    return _json_encoder.encode(value).decode()

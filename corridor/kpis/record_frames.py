"""Record tables as pandas frames: the one place records become columns.

Yard and categorical label columns are pandas categoricals (per-yard grouping over a million
rows runs about twice as fast as on plain strings); times stay float minutes.
"""

import itertools
import operator
import typing
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from corridor.engine.twin import Twin
from stations.records import LEVELS, RECORD_TYPES
from stations.types import Minutes

_LABELS = ("direction", "equipment", "purpose", "kind", "milestone")


def record_frames(twin: Twin) -> dict[str, pd.DataFrame]:
    """One frame per record table (see `stations.records.RECORD_TYPES`), levels included."""
    yards = list(twin.yards)
    frames = {
        name: table_frame(rows, RECORD_TYPES[name], yards)
        for name, rows in twin.tables().items()
        if name != "levels"
    }
    frames["levels"] = level_frame(twin, yards)
    return frames


def level_frame(twin: Twin, yards: Sequence[str], since: Minutes | None = None) -> pd.DataFrame:
    """Every level series of every yard, sorted by (yard, level, time).

    With `since`, each series starts at its last point at or before `since` (the value it held
    then) instead of at the epoch: all a window starting at or after `since` reads of it.
    """
    parts_yard, parts_level, parts_time, parts_value = [], [], [], []
    for yard_index, yard in enumerate(twin.yards.values()):
        for level_index, level in enumerate(LEVELS):
            series = yard.levels[level]
            times = np.frombuffer(series.times, dtype=np.float64)
            values = np.frombuffer(series.values, dtype=np.float64)
            if since is not None:
                first = max(int(np.searchsorted(times, since, side="right")) - 1, 0)
                times, values = times[first:], values[first:]
            parts_time.append(times)
            parts_value.append(values)
            parts_yard.append(np.full(len(times), yard_index, dtype=np.int8))
            parts_level.append(np.full(len(times), level_index, dtype=np.int8))
    return pd.DataFrame(
        {
            "yard": pd.Categorical.from_codes(
                np.concatenate(parts_yard), categories=pd.Index(list(yards))
            ),
            "level": pd.Categorical.from_codes(
                np.concatenate(parts_level), categories=pd.Index(list(LEVELS))
            ),
            "time": np.concatenate(parts_time),
            "value": np.concatenate(parts_value),
        }
    )


def table_frame(
    rows: list[tuple[object, ...]], record: type[tuple[object, ...]], yards: Sequence[str]
) -> pd.DataFrame:
    """Rows of one record type as columns typed from the record's annotations.

    Column by column, each read straight out of the rows: `DataFrame.from_records` infers each
    cell's type row by row, and transposing with `zip(*rows)` builds a tuple per column first,
    both several times slower on the million rows of a year.
    """
    columns: list[str] = list(record._fields)  # type: ignore[attr-defined]
    if not rows:
        frame = pd.DataFrame.from_records(rows, columns=columns)
        frame["yard"] = pd.Categorical(frame["yard"], categories=list(yards))
        for label in _LABELS:
            if label in frame.columns:
                frame[label] = frame[label].astype("category")
        return frame
    kinds = typing.get_type_hints(record)
    data: dict[str, object] = {}
    for index, name in enumerate(columns):
        cells = map(operator.itemgetter(index), rows)
        dtype = _DTYPES.get(kinds[name])
        if dtype is not None:  # straight into the array, no column of Python objects between
            data[name] = np.fromiter(cells, dtype, len(rows))
            continue
        values = list(cells)
        if name == "yard":
            data[name] = _categorical(values, yards)
        elif name in _LABELS:
            data[name] = _categorical(values, sorted(set(values)))  # as `pd.Categorical` infers
        elif kinds[name] is str:  # through Arrow: 3x faster than from Python objects
            data[name] = pd.array(pa.array(values, type=pa.large_string()), dtype=_STRINGS)
        else:
            data[name] = np.array(values, dtype=object)
    return pd.DataFrame(data)


def _categorical(values: Sequence[object], categories: Sequence[object]) -> pd.Categorical:
    """`pd.Categorical(values, categories)` coded through a dict (a value not listed is NaN).

    pandas factorizes a million Python strings several times slower than a dict lookup each.
    """
    code_of = {category: code for code, category in enumerate(categories)}
    codes = np.fromiter(map(code_of.get, values, itertools.repeat(-1)), np.int32, len(values))
    return pd.Categorical.from_codes(codes, categories=pd.Index(list(categories)))


_DTYPES: dict[object, type] = {float: np.float64, int: np.int64, bool: np.bool_}  # by annotation
_STRINGS = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' default `str` dtype

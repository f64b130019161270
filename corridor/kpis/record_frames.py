"""Record tables as pandas frames: the one place records become columns.

Yard and categorical label columns are pandas categoricals (per-yard grouping over a million
rows runs about twice as fast as on plain strings); times stay float minutes since the twin's
epoch, which the KPI code reads. The Parquet files a run writes (`write_record_tables`) carry
each time beside it as an absolute UTC timestamp, `<column>_utc` (`timestamp[us, tz=UTC]`), so
a file means the same thing without the epoch it was computed from (`docs/outputs.md`).
"""

import functools
import itertools
import operator
import typing
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from numpy.typing import NDArray

from corridor.engine.twin import Twin
from corridor.kpis.frames import Table, categories
from corridor.kpis.levels import series_of
from stations.records import LEVELS, RECORD_TYPES
from stations.types import Minutes

_LABELS = ("direction", "equipment", "purpose", "kind", "milestone")
_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECONDS_PER_MINUTE = 60_000_000

TIME_COLUMNS: dict[str, tuple[str, ...]] = {
    "truck_visits": (
        "dispatched", "arrived", "gate_start", "gate_end", "lift_start", "lift_end", "departed",
    ),
    "box_visits": ("entered", "stacked", "left", "inspection_start", "cleared", "loading_start"),
    "lifts": ("start", "end"),
    "train_visits": ("scheduled", "work_start", "work_end", "departed"),
    "observations": ("observed", "modelled"),
    "levels": ("time",),
    "reefer_excursions": ("start", "end"),
    "reefer_readings": ("time",),
}  # fmt: skip
"""The `Minutes` columns of each record table (the annotation alone is `float`, as for any
other float), each written with a `<column>_utc` twin."""


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
    return _level_frame(*_level_columns(twin, since), yards)


def level_table(twin: Twin, since: Minutes) -> Table:
    """`level_frame(twin, twin's yards, since)` as the KPIs' `Table`, its step series
    (`corridor.kpis.levels.levels_over`) made from the same arrays: the rows are the yards'
    series one after the other, so each row's yard and level are known as they are laid out,
    not read back from the frame's categoricals."""
    yards = list(twin.yards)
    yard, level, time, value = _level_columns(twin, since)
    frame = functools.partial(_level_frame, yard, level, time, value, yards)  # if read
    table = Table("levels", frame, yard, len(yards), corridor=False)
    key = yard.astype(np.intp) * len(LEVELS) + level
    table.cache[("levels", "series")] = series_of(key, time, value, len(yards) * len(LEVELS))
    return table


Levels = tuple[NDArray[np.int8], NDArray[np.int8], NDArray[np.float64], NDArray[np.float64]]
"""Per point of every level series: its yard's and level's index, time and value."""


def _level_columns(twin: Twin, since: Minutes | None) -> Levels:
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
    return (
        np.concatenate(parts_yard),
        np.concatenate(parts_level),
        np.concatenate(parts_time),
        np.concatenate(parts_value),
    )


def _level_frame(
    yard: NDArray[np.int8],
    level: NDArray[np.int8],
    time: NDArray[np.float64],
    value: NDArray[np.float64],
    yards: Sequence[str],
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "yard": pd.Categorical.from_codes(yard, categories=categories(tuple(yards))),
            "level": pd.Categorical.from_codes(level, categories=categories(tuple(LEVELS))),
            "time": time,
            "value": value,
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


def write_record_tables(frames: Mapping[str, pd.DataFrame], epoch: datetime, out: Path) -> None:
    """One Parquet file per record table in `out`, each time with its UTC twin beside it."""
    for name, frame in frames.items():
        with_utc_times(frame, TIME_COLUMNS.get(name, ()), epoch).to_parquet(
            out / f"{name}.parquet", index=False
        )


def with_utc_times(frame: pd.DataFrame, columns: Sequence[str], epoch: datetime) -> pd.DataFrame:
    """The frame with `<column>_utc` after each Minutes column: epoch + minutes, to the
    microsecond, in UTC (a time that has not happened, NaN, is null)."""
    if epoch.utcoffset() is None:
        raise ValueError(f"epoch: needs a timezone (an aware datetime), got {epoch.isoformat()}")
    epoch_us = (epoch - _UNIX_EPOCH) // timedelta(microseconds=1)
    columns_out: dict[str, pd.Series] = {}
    for name, column in frame.items():
        columns_out[str(name)] = column
        if name in columns:
            columns_out[f"{name}_utc"] = _utc(column, epoch_us)
    return pd.DataFrame(columns_out, index=frame.index)


def _utc(column: pd.Series, epoch_us: int) -> pd.Series:
    """Minutes since the epoch (at `epoch_us` microseconds after 1970) as UTC timestamps."""
    minutes = column.to_numpy(dtype=np.float64)
    happened = np.isfinite(minutes)
    offsets = np.rint(np.where(happened, minutes, 0.0) * _MICROSECONDS_PER_MINUTE)
    micros = offsets.astype(np.int64) + epoch_us
    stamps = pd.Series(micros.view("datetime64[us]"), index=column.index)
    return stamps.dt.tz_localize("UTC").where(happened)


def _categorical(values: Sequence[object], categories: Sequence[object]) -> pd.Categorical:
    """`pd.Categorical(values, categories)` coded through a dict (a value not listed is NaN).

    pandas factorizes a million Python strings several times slower than a dict lookup each.
    """
    code_of = {category: code for code, category in enumerate(categories)}
    codes = np.fromiter(map(code_of.get, values, itertools.repeat(-1)), np.int32, len(values))
    return pd.Categorical.from_codes(codes, categories=pd.Index(list(categories)))


_DTYPES: dict[object, type] = {float: np.float64, int: np.int64, bool: np.bool_}  # by annotation
_STRINGS = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' default `str` dtype

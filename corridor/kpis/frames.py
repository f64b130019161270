"""Record frames as the KPI code reads them: columns checked, each row's yard as an index.

The twin's record tables (`corridor.kpis.record_frames.record_frames`) arrive as pandas frames
whose `yard`
column is categorical. Each frame is turned, once, into a `Table`: the frame plus an integer
array naming the scenario yard of every row, so a KPI splits its numbers by yard with one
comparison per yard instead of a group-by of its own. The corridor is the union of the yards.
A KPI window is a stretch of event time, `[start, end)` in Minutes: a `Window`.
"""

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from stations.types import MINUTES_PER_DAY, Minutes

Floats = NDArray[np.float64]
Flags = NDArray[np.bool_]
Indices = NDArray[np.intp]
Codes = NDArray[np.signedinteger[Any]]
Kept = TypeVar("Kept")

MILESTONE_COLUMNS = ("stacked", "inspection_start", "cleared", "loading_start")
"""The milestones of a box's stay between entering and leaving (`corridor.kpis.stages`)."""

REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "truck_visits": ("yard", "arrived", "gate_start", "departed"),
    "box_visits": ("yard", "direction", "teu", "reefer", "entered", *MILESTONE_COLUMNS, "left"),
    "lifts": ("yard", "start", "end"),
    "levels": ("yard", "level", "time", "value"),
    "reefer_excursions": ("yard", "kind", "start", "end"),
    "reefer_readings": ("yard", "time"),
}
"""The record tables (`stations.records.RECORD_TYPES` names) and the columns the KPIs read."""


@dataclass(frozen=True, slots=True)
class Window:
    """The half-open stretch of event time `[start, end)` the KPIs describe, in Minutes."""

    start: Minutes
    end: Minutes

    def __post_init__(self) -> None:
        if not (np.isfinite(self.start) and np.isfinite(self.end)):
            raise ValueError(f"window: start and end must be finite, got {self.start}, {self.end}")
        if self.end <= self.start:
            raise ValueError(f"window: end ({self.end}) must be after start ({self.start})")

    @property
    def minutes(self) -> float:
        return self.end - self.start

    @property
    def days(self) -> float:
        return self.minutes / MINUTES_PER_DAY

    def holds(self, times: Floats) -> Flags:
        """Which moments fall in the window (a NaN moment, one that never happened, does not)."""
        return (times >= self.start) & (times < self.end)

    def overlap(self, begin: Floats, finish: Floats) -> Floats:
        """Minutes of each interval `[begin, finish)` inside the window (NaN `finish`: open)."""
        until: Floats = np.where(np.isnan(finish), self.end, np.minimum(finish, self.end))
        inside: Floats = np.maximum(until - np.maximum(begin, self.start), 0.0)
        return inside


@dataclass(frozen=True, slots=True)
class Table:
    """One record frame and, per row, the index of its yard in the scenario's yard list.

    The frame may be given as how to make it (`source`), made on first read: the live
    snapshot's tables hold the arrays the KPIs read already (`RecentRecords.tables`).

    Its column arrays are made once and kept (`cache`): a live snapshot reads the same
    tables for four windows, the KPIs and the partials. They are read-only, so no reader can
    change what the next one reads. So are the figures `memo` keeps.

    `corridor`: whether the figures split by yard end with the corridor's (all the yards'
    rows pooled). The live twin's tables have none: its corridor is merged from the yards'
    partials (`corridor.kpis.merge`), so pooling the yards' rows again was work thrown away."""

    name: str
    source: pd.DataFrame | Callable[[], pd.DataFrame]  # the frame, or how to make it
    yard: Codes
    n_yards: int
    corridor: bool = True
    cache: dict[tuple[Any, ...], Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def frame(self) -> pd.DataFrame:
        """The record frame; made on first read when `source` says how (the live snapshot's
        tables put what the KPIs read in the cache first, so most never make it)."""
        if isinstance(self.source, pd.DataFrame):
            return self.source
        found: pd.DataFrame | None = self.cache.get(("frame",))
        if found is None:
            found = self.cache[("frame",)] = self.source()
        return found

    @property
    def rows(self) -> int:
        """The number of rows (records)."""
        return len(self.yard)

    @property
    def n_scopes(self) -> int:
        """The yards, and the corridor when the table has it."""
        return self.n_yards + int(self.corridor)

    def memo(self, key: tuple[Any, ...], make: Callable[[], Kept]) -> Kept:
        """`make()` the first time `key` is asked for, the same object after: `compute_kpis`
        and `corridor.kpis.partials` read the same intermediate figures of a window (the dwell
        populations, each group's split by yard, the stage hours), made once for both. The
        key must name everything `make` reads besides this table. An array it returns (or a
        tuple's arrays) is made read-only; no reader may change what else it keeps."""
        found: Kept | None = self.cache.get(key)
        if found is None:
            found = make()
            for value in found if isinstance(found, tuple) else (found,):
                if isinstance(value, np.ndarray):
                    value.flags.writeable = False
            self.cache[key] = found
        return found

    def floats(self, column: str) -> Floats:
        found: Floats | None = self.cache.get(("floats", column))
        if found is None:
            found = self._keep(("floats", column), self.frame[column].to_numpy(dtype=np.float64))
        return found

    def ints(self, column: str) -> NDArray[np.int64]:
        found: NDArray[np.int64] | None = self.cache.get(("ints", column))
        if found is None:
            values = self._complete(column)
            found = self._keep(("ints", column), values.to_numpy(dtype=np.int64))
        return found

    def flags(self, column: str) -> Flags:
        found: Flags | None = self.cache.get(("flags", column))
        if found is None:
            values = self._complete(column)
            found = self._keep(("flags", column), values.to_numpy(dtype=np.bool_))
        return found

    def equals(self, column: str, label: str) -> Flags:
        found: Flags | None = self.cache.get((column, label))
        if found is None:
            found = self._keep((column, label), self._equals(column, label))
        return found

    def _complete(self, column: str) -> "pd.Series[Any]":
        """The column, after checking that every row has a value."""
        values = self.frame[column]
        if values.isna().any():
            raise ValueError(f"{self.name}.{column}: {int(values.isna().sum())} rows have no value")
        return values

    def _keep(self, key: tuple[str, str], array: Any) -> Any:
        """Keep `array`, read-only (a view of the frame's memory stays a view)."""
        array.flags.writeable = False
        self.cache[key] = array
        return array

    def _equals(self, column: str, label: str) -> Flags:
        values = self.frame[column]
        if not isinstance(values.dtype, pd.CategoricalDtype):
            return (values == label).to_numpy(dtype=np.bool_)
        categories = values.cat.categories.tolist()  # a few labels: no index engine for one
        if label not in categories:
            return np.zeros(len(values), dtype=np.bool_)
        matches: Flags = values.cat.codes.to_numpy() == categories.index(label)
        return matches

    def known_times(self, column: str, rows: Flags, why: str) -> Floats:
        """The `column` times, after checking every one of `rows` has one (NaN is a data error)."""
        times = self.floats(column)
        missing = int(np.isnan(times[rows]).sum())
        if missing:
            raise ValueError(f"{self.name}.{column}: {missing} rows {why} have no {column} time")
        return times

    def scoped(self, values: Floats, rows: Flags) -> list[Floats]:
        """`values[rows]` split by yard (scenario order), then all of them for the corridor
        (when the table has it)."""
        yard, picked = self.yard[rows], values[rows]
        per_yard = [picked[yard == index] for index in range(self.n_yards)]
        return [*per_yard, picked] if self.corridor else per_yard

    def scoped_sums(self, weights: Floats, rows: Flags) -> list[float]:
        """Sum of `weights[rows]` per yard, then for the corridor (when the table has it)."""
        sums = np.bincount(self.yard[rows], weights=weights[rows], minlength=self.n_yards)
        per_yard = [float(total) for total in sums]
        return [*per_yard, float(sums.sum())] if self.corridor else per_yard

    def scoped_counts(self, rows: Flags) -> list[int]:
        """Number of `rows` per yard, then for the corridor (when the table has it)."""
        counts = np.bincount(self.yard[rows], minlength=self.n_yards)
        per_yard = [int(count) for count in counts]
        return [*per_yard, int(counts.sum())] if self.corridor else per_yard


def prepare_tables(
    frames: Mapping[str, pd.DataFrame], yards: Sequence[str], *, corridor: bool = True
) -> dict[str, Table]:
    """Check every table the KPIs read and index its rows by yard; errors name table and column.
    `corridor`: whether the figures read from them end with the corridor's (`Table`)."""
    if not yards:
        raise ValueError("stations: the KPIs need at least one yard")
    missing = [name for name in REQUIRED_COLUMNS if name not in frames]
    if missing:
        raise ValueError(f"frames: missing record table(s) {', '.join(missing)}")
    tables = {}
    for name, columns in REQUIRED_COLUMNS.items():
        frame = frames[name]
        absent = [column for column in columns if column not in frame.columns]
        if absent:
            raise ValueError(f"{name}: missing column(s) {', '.join(absent)}")
        yard = label_index(frame["yard"], yards, f"{name}.yard")
        tables[name] = Table(
            name=name, source=frame, yard=yard, n_yards=len(yards), corridor=corridor
        )
    return tables


@functools.lru_cache(maxsize=256)
def categories(labels: tuple[str, ...]) -> pd.Index:
    """The categories `labels` as one pandas `Index`, made once and shared: a live snapshot
    makes a dozen categoricals over the same few labels (yards, levels, directions), and a
    fresh string `Index` (through Arrow) with its hash table for the uniqueness check cost
    more than the rest of making them. An `Index` is immutable, so sharing it is safe."""
    return pd.Index(list(labels))


def label_index(column: "pd.Series[str]", labels: Sequence[str], where: str) -> Codes:
    """Each row's position in `labels`; a row with another label, or none, is an error."""
    codes, uniques = _codes(column)
    if uniques == list(labels):  # a categorical of exactly `labels`: codes are positions
        lookup = np.arange(len(uniques))
    else:
        lookup = pd.Index(list(labels)).get_indexer(pd.Index(uniques))
    if np.array_equal(lookup, np.arange(lookup.size)):
        positions = codes  # the column's labels are `labels`, in order: codes are positions
    else:
        positions = np.append(lookup, -1)[codes]  # code -1 (missing) also lands on -1
    bad = positions < 0
    if bad.any():
        unknown = sorted({str(label) for label in column[bad].unique()})
        raise ValueError(
            f"{where}: {int(bad.sum())} rows with unknown value(s) {', '.join(unknown)}; "
            f"known: {', '.join(labels)}"
        )
    return positions


def _codes(column: "pd.Series[str]") -> tuple[Codes, list[object]]:
    """Integer codes (-1: missing) and their labels; a categorical column already has them."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return np.asarray(column.cat.codes), list(column.cat.categories)
    codes, uniques = pd.factorize(column)
    return np.asarray(codes), list(uniques)

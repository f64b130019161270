"""The columns a KPI reads of one record table, converted once per record and kept.

A live twin takes a KPI snapshot several times a second of wall time when events stream in,
and each one read the last seven days of records. Turning those records into a pandas frame
(`corridor.kpis.record_frames.table_frame`: every column, strings through Arrow) was about
40 % of a snapshot, for records that mostly had not changed since the last one. Closed
records never change and are only appended (until the twin forgets a prefix, which starts a
new cache), so each is converted here once, into the columns `compute_kpis` and the partials
read (`corridor.kpis.frames.REQUIRED_COLUMNS`), and a snapshot's frame is the kept columns
sliced and joined. The columns hold what `table_frame` gives for them: numbers as numpy
arrays of the annotated type, the yard as a categorical over the scenario's yards, a label
(direction, kind) as a categorical over the labels present, sorted. Hand-written rather than
a library's: the conversion is `table_frame`'s own, kept per record between calls.
"""

import operator
import typing
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from corridor.kpis.frames import REQUIRED_COLUMNS

Record = Any
"""A record tuple (`stations.records`)."""

_NUMBERS: dict[object, type] = {float: np.float64, int: np.int64, bool: np.bool_}
Columns = dict[str, NDArray[Any]]
"""Column name to array; `yard` and labels as integer codes (`LabelCodes`)."""


class LabelCodes:
    """Integer codes for label strings, in the order first seen (made sorted per frame)."""

    def __init__(self) -> None:
        self.code_of: dict[str, int] = {}
        self.labels: list[str] = []

    def codes(self, values: Sequence[str]) -> NDArray[np.int32]:
        code_of = self.code_of
        for value in values:
            if value not in code_of:
                code_of[value] = len(self.labels)
                self.labels.append(value)
        return np.fromiter(map(code_of.__getitem__, values), np.int32, len(values))

    def categorical(self, codes: NDArray[np.int32]) -> "pd.Categorical[str]":
        """The categorical `table_frame` makes of these values: categories sorted, as present."""
        present = np.flatnonzero(np.bincount(codes, minlength=len(self.labels)))
        ordered = sorted(self.labels[code] for code in present)
        position = np.full(len(self.labels), -1, dtype=np.int32)
        position[[self.code_of[label] for label in ordered]] = np.arange(len(ordered))
        return pd.Categorical.from_codes(position[codes], categories=pd.Index(ordered))


class KpiColumns:
    """Converts rows of one record type into the KPI columns of its table."""

    def __init__(self, table: str, record: type[tuple[Any, ...]], yards: Sequence[str]) -> None:
        self.table, self.yards = table, list(yards)
        self.names = REQUIRED_COLUMNS[table]
        kinds = typing.get_type_hints(record)
        fields: list[str] = list(record._fields)  # type: ignore[attr-defined]
        self._at = {name: fields.index(name) for name in self.names}
        self._numbers = {
            name: _NUMBERS[kinds[name]] for name in self.names if kinds[name] in _NUMBERS
        }
        self._yard_code = {yard: code for code, yard in enumerate(self.yards)}
        self.labels = {
            name: LabelCodes()
            for name in self.names
            if name != "yard" and name not in self._numbers
        }

    def convert(self, rows: Sequence[Record]) -> Columns:
        """The KPI columns of `rows` (yard and labels as codes)."""
        columns: Columns = {}
        for name in self.names:
            cells = list(map(operator.itemgetter(self._at[name]), rows))
            if name in self._numbers:
                columns[name] = np.fromiter(cells, self._numbers[name], len(cells))
            elif name == "yard":
                get = self._yard_code.get
                columns[name] = np.fromiter((get(c, -1) for c in cells), np.int32, len(cells))
            else:
                columns[name] = self.labels[name].codes(cells)
        return columns

    def frame(self, parts: Sequence[Columns]) -> pd.DataFrame:
        """One frame of the parts' rows in order, typed as `table_frame` types these columns."""
        data: dict[str, object] = {}
        for name in self.names:
            joined = np.concatenate([part[name] for part in parts]) if parts else None
            if joined is None:
                joined = np.empty(0, dtype=self._numbers.get(name, np.int32))
            if name == "yard":
                data[name] = pd.Categorical.from_codes(joined, categories=pd.Index(self.yards))
            elif name in self.labels:
                data[name] = self.labels[name].categorical(joined)
            else:
                data[name] = joined
        return pd.DataFrame(data)


class KeptRows:
    """One yard's table: the KPI columns of its records so far, grown as records are appended.

    A list that is no longer the one converted (shorter, or another first or last record at
    the kept positions) is converted again from the start."""

    def __init__(self, columns: KpiColumns) -> None:
        self.columns = columns
        self.count = 0
        self.first: Record | None = None
        self.last: Record | None = None
        self.kept: Columns = columns.convert([])

    def since(self, rows: Sequence[Record], first: int) -> Columns:
        """The columns of `rows[first:]`, converting only the rows appended since last time."""
        if not self._same(rows):
            self.count, self.kept = 0, self.columns.convert([])
        if len(rows) > self.count:
            new = self.columns.convert(rows[self.count :])
            self.kept = {name: np.concatenate([self.kept[name], new[name]]) for name in new}
            self.count = len(rows)
        if rows:
            self.first, self.last = rows[0], rows[self.count - 1]
        return {name: column[first:] for name, column in self.kept.items()}

    def _same(self, rows: Sequence[Record]) -> bool:
        if self.count == 0:
            return True
        if len(rows) < self.count:
            return False
        return rows[0] is self.first and rows[self.count - 1] is self.last

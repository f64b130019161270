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
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from corridor.kpis.frames import REQUIRED_COLUMNS, categories

Record = Any
"""A record tuple (`stations.records`)."""

_NUMBERS: dict[object, type] = {float: np.float64, int: np.int64, bool: np.bool_}
_READS: dict[type, str] = {np.float64: "floats", np.int64: "ints", np.bool_: "flags"}
"""`Table`'s cache key of a column of each number type (`Table.floats`, `ints`, `flags`)."""
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
        return pd.Categorical.from_codes(position[codes], categories=categories(tuple(ordered)))


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
        return self._columns(lambda name: list(map(operator.itemgetter(self._at[name]), rows)))

    def convert_attributes(self, things: Sequence[Any], given: Mapping[str, Any]) -> Columns:
        """The KPI columns of records not made yet, read off the `things` they will be made of
        by attribute (a box still in the yard: its `stations.box.Box`), the columns the things
        lack (`given`: its yard, `left` not yet) one value for all. The same columns as
        `convert` of the records would give, without making a record of every open box
        at every snapshot (with the plug wait so far, which no KPI reads)."""

        read = self._columns(
            lambda name: list(map(operator.attrgetter(name), things)),
            [name for name in self.names if name not in given],
        )
        # a column of one value: that value's column of one row, repeated (not the value
        # listed once a box and each looked up again: a tenth of a live snapshot's frames)
        alike = self._columns(lambda name: [given[name]] * min(len(things), 1), list(given))
        return {
            name: read[name] if name in read else np.repeat(alike[name], len(things))
            for name in self.names
        }

    def _columns(
        self, cells_of: Callable[[str], list[Any]], names: Sequence[str] | None = None
    ) -> Columns:
        """The columns `names` (every one by default, in the table's order) of the cells
        `cells_of` gives for each."""
        columns: Columns = {}
        for name in self.names if names is None else names:
            cells = cells_of(name)
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
        return self.frame_of(self.joined(parts))

    def joined(self, parts: Sequence[Columns]) -> Columns:
        """The parts' rows in order, as one array a column (`yard` and labels as codes)."""
        if not parts:
            return {
                name: np.empty(0, dtype=self._numbers.get(name, np.int32)) for name in self.names
            }
        return {name: np.concatenate([part[name] for part in parts]) for name in self.names}

    def read(self, columns: Columns) -> dict[tuple[str, str], NDArray[Any]]:
        """What `corridor.kpis.frames.Table` reads off `frame_of(columns)`, keyed as its cache:
        each number column as its array, each label's matches (`Table.equals`) as the codes
        equal to the label's; read-only, as the table keeps what it reads."""
        read: dict[tuple[str, str], NDArray[Any]] = {}
        for name, values in columns.items():
            if name in self.labels:
                for label, code in self.labels[name].code_of.items():
                    read[(name, label)] = values == code
            elif name in self._numbers:
                read[(_READS[self._numbers[name]], name)] = values
        for array in read.values():
            array.flags.writeable = False
        return read

    def frame_of(self, columns: Columns) -> pd.DataFrame:
        """The frame of `joined` columns, typed as `table_frame` types them (its own arrays)."""
        data: dict[str, object] = {}
        for name in self.names:
            joined = columns[name]
            if name == "yard":
                data[name] = pd.Categorical.from_codes(
                    joined, categories=categories(tuple(self.yards))
                )
            elif name in self.labels:
                data[name] = self.labels[name].categorical(joined)
            else:
                data[name] = joined
        return pd.DataFrame(data, copy=False)  # the arrays are this frame's own: no copy


class KeptRows:
    """One yard's table: the KPI columns of its records so far, grown as records are appended.

    Records are appended as they close, and the twin forgets a prefix of them once a day
    (`corridor.engine.retention`): the kept columns follow both, so the day's first snapshot
    does not convert seven days of records again. The records converted are kept by reference
    to tell which prefix went; a list that changed otherwise is converted again from the start.
    """

    def __init__(self, columns: KpiColumns) -> None:
        self.columns = columns
        self.records: list[Record] = []  # the rows converted, by reference
        self.kept: Columns = columns.convert([])

    def sync(self, rows: Sequence[Record]) -> int:
        """Bring the columns in line with `rows`; returns how many leading rows went since."""
        gone = self._gone(rows)
        if gone is None:
            self.records, self.kept, gone = [], self.columns.convert([]), 0
        elif gone:
            del self.records[:gone]
            self.kept = {name: column[gone:] for name, column in self.kept.items()}
        if len(rows) > len(self.records):
            new_rows = rows[len(self.records) :]
            new = self.columns.convert(new_rows)
            self.kept = {name: np.concatenate([self.kept[name], new[name]]) for name in new}
            self.records.extend(new_rows)
        return gone

    def since(self, first: int) -> Columns:
        """The columns of the rows from `first` on (as of the last `sync`)."""
        return {name: column[first:] for name, column in self.kept.items()}

    def _gone(self, rows: Sequence[Record]) -> int | None:
        """How many leading records were dropped (None: the list is not what was converted)."""
        records = self.records
        if not records:
            return 0
        gone = 0
        if rows and rows[0] is not records[0]:
            head = rows[0]
            gone = next((at for at, record in enumerate(records) if record is head), len(records))
        left = len(records) - gone
        if left > len(rows) or (left and rows[left - 1] is not records[-1]):
            return None
        return gone

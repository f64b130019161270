"""Record frames of the recent past: all that a KPI window starting at or after `since` reads.

`corridor.kpis.report.compute_kpis` over `[start, end)` looks at a record only through times inside
the window or through intervals overlapping it. A record whose every time is before `start`
adds nothing: it is counted nowhere and overlaps by 0 minutes (which leaves a sum and a
maximum of non-negative minutes unchanged). Per table, a closed record is *past* for `since`
when

- truck visit: `departed` and `gate_start` are before it (trucks, turnaround, gate wait);
- box visit: `left` and `entered` are before it (dwell, TEU in and out);
- lift: `end` is before it (lifts counted, lifting minutes);
- reefer excursion: `end` and `start` are before it (excursions, their minutes);
- reefer reading: its `time` is before it (readings).

A level series only needs its last point at or before `since` and everything after. Boxes
still in the yard and open excursions are never past. Dropping past records, and keeping the
others in the order `record_frames` has them (yard by yard, closed records then open ones),
gives `compute_kpis` the same numbers in the same order, so the KPIs are byte-identical to
those over the full frames (`tests/test_recent_frames.py` checks it on a simulated week).

`RecentRecords` remembers, per yard and table, how many leading records are past, so each
snapshot reads only the last days of a twin that has run for years: records are appended
when they close, in event-time order, so the past ones form a prefix that only grows. A record
out of that order is merely kept longer than needed (never dropped early). Each closed record
is turned into the columns the KPIs read once, when first seen (`corridor.kpis.kpi_columns`):
the frames hold those columns only, not every field of the records. When the twin forgets a
prefix of a list (`corridor.engine.retention`), the kept columns and the count of past records
move back by what went, so forgetting does not make the next snapshot start over. Boxes still
in the yard are read off the yards' `Box`es (`KpiColumns.convert_attributes`), not made into
records first.
"""

import functools
import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from corridor.engine.retention import IS_PAST, IsPast
from corridor.engine.twin import Twin
from corridor.kpis.frames import Table, label_index, prepare_tables
from corridor.kpis.kpi_columns import Columns, KeptRows, KpiColumns
from corridor.kpis.record_frames import level_frame, level_table
from stations.records import NOT_YET, BoxVisit, Lift, ReadingReceived, ReeferExcursion, TruckVisit
from stations.types import Minutes

Record = Any
"""A record tuple of one of the tables below."""


PAST: dict[str, tuple[type[tuple[Any, ...]], IsPast]] = {
    name: (record, IS_PAST[name])
    for name, record in (
        ("truck_visits", TruckVisit),
        ("box_visits", BoxVisit),
        ("lifts", Lift),
        ("reefer_excursions", ReeferExcursion),
        ("reefer_readings", ReadingReceived),
    )
}
"""The record tables the KPIs read, each with its type and its "past for `since`" test."""


class RecentRecords:
    """The frames `compute_kpis` needs for windows starting at or after a moment, of one twin."""

    def __init__(self, twin: Twin) -> None:
        self.twin = twin
        self._since: Minutes = -math.inf
        self._past: dict[str, dict[str, int]] = {}
        yards = list(twin.yards)
        self._columns = {
            name: KpiColumns(name, record, yards) for name, (record, _) in PAST.items()
        }
        self._kept = {
            sid: {name: KeptRows(columns) for name, columns in self._columns.items()}
            for sid in yards
        }

    def past(self, yard: str, table: str) -> int:
        """How many of the yard's first records in `table` the last `frames` call left out."""
        return self._past.get(yard, {}).get(table, 0)

    def frames(self, since: Minutes) -> dict[str, pd.DataFrame]:
        """Frames for KPI windows that start at or after `since` (Minutes since the epoch)."""
        joined = self._joined(since)
        frames = {name: self._columns[name].frame_of(joined[name]) for name in PAST}
        frames["levels"] = level_frame(self.twin, list(self.twin.yards), since)
        return frames

    def tables(self, since: Minutes, yards: Sequence[str]) -> dict[str, Table]:
        """`prepare_tables(self.frames(since), yards, corridor=False)`, without reading back
        what the kept columns already hold: each row's yard is its kept code (when the twin's
        yards are `yards`, in order), and the number columns and label matches are the kept
        arrays, put in the tables' caches as `Table` would read them off the frames
        (`KpiColumns.read`); a table's pandas frame is made only if something reads it (an
        error's message, a label never seen)."""
        if list(self.twin.yards) != list(yards):
            return prepare_tables(self.frames(since), yards, corridor=False)
        joined = self._joined(since)
        tables = {name: self._table(name, columns) for name, columns in joined.items()}
        tables["levels"] = level_table(self.twin, since)
        return tables

    def _table(self, name: str, columns: Columns) -> Table:
        kept = self._columns[name]
        codes = columns["yard"]
        if codes.size and int(codes.min()) < 0:  # a yard not in the scenario: its error
            label_index(kept.frame_of(columns)["yard"], list(self.twin.yards), f"{name}.yard")
        frame = functools.partial(kept.frame_of, columns)  # made only if something reads it
        table = Table(name, frame, codes, len(self.twin.yards), corridor=False)
        table.cache.update(kept.read(columns))
        return table

    def _joined(self, since: Minutes) -> dict[str, Columns]:
        """The KPI columns of every record a window starting at or after `since` reads."""
        if since < self._since:  # an earlier moment than before: the kept prefixes may be needed
            self._past = {}
        self._since = since
        parts: dict[str, list[Columns]] = {name: [] for name in PAST}
        for sid, yard in self.twin.yards.items():
            past = self._past.setdefault(sid, dict.fromkeys(PAST, 0))
            for name, (_record, is_past) in PAST.items():
                rows, kept = getattr(yard.records, name), self._kept[sid][name]
                first = max(past[name] - kept.sync(rows), 0)  # less what the twin forgot
                while first < len(rows) and is_past(rows[first], since):
                    first += 1
                past[name] = first
                parts[name].append(kept.since(first))
            # as `Twin.tables` adds them (`Twin.open_boxes`): after the yard's closed ones
            boxes, still_there = self._columns["box_visits"], list(yard.boxes.values())
            given = {"yard": yard.spec.id, "left": NOT_YET}
            parts["box_visits"].append(boxes.convert_attributes(still_there, given))
            excursions = self._columns["reefer_excursions"]
            parts["reefer_excursions"].append(excursions.convert(self.twin.open_excursions(sid)))
        return {name: self._columns[name].joined(parts[name]) for name in PAST}

"""What a long-running twin may forget: closed records older than a moment, and their leftovers.

A live twin runs for months; kept for ever, its records and per-truck bookkeeping grow with its
age (a year of three yards peaked near 3 GB). Everything the KPI windows can still read, and
everything a visit still in progress needs, has to stay; the rest is already in the store.

A closed record is *past* for a moment `before` when every time it carries is before it (a NaN
time, a milestone that did not happen, never is): it adds nothing to a KPI window starting at or
after `before` (`corridor.kpis.recent_frames` explains why). `forget_records` drops the leading
past records of each table that were already drained to the store (`Twin.drain`), so what
leaves memory is in the store; records are appended as they close, in event-time order, so the
past ones form a prefix (a record out of that order is merely kept longer). A level series keeps
its last point at or before `before` and everything after. The yard's per-truck and per-train
leftovers go with `stations.yard.Yard.forget_before`.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_right
from collections.abc import Callable, MutableMapping
from typing import Any

from stations.records import (
    BoxVisit,
    Lift,
    Observation,
    ReadingReceived,
    ReeferExcursion,
    TrainVisit,
    TruckVisit,
)
from stations.types import Minutes
from stations.yard import Yard

IsPast = Callable[[Any, Minutes], bool]
"""Is a record past for `before`: every one of its times before it?"""


def _before(*fields: str, record: type[tuple[Any, ...]]) -> IsPast:
    """Is every one of `fields` of a record before `before`? (NaN, not happened, never is.)"""
    at = [record._fields.index(name) for name in fields]  # type: ignore[attr-defined]
    # one or two fields spelt out: `all` over a generator made a live twin's daily forgetting
    # test each record at about twice the cost (`docs/performance.md`, branch `engine`)
    if len(at) == 1:
        (only,) = at
        return lambda row, before: row[only] < before
    if len(at) == 2:
        first, second = at
        return lambda row, before: row[first] < before and row[second] < before
    return lambda row, before: all(row[index] < before for index in at)


def _train_past(row: TrainVisit, before: Minutes) -> bool:
    """An import train never departs (NaN): its work is what must be over."""
    done = row.work_end < before and row.scheduled < before
    return done and (row.departed < before or math.isnan(row.departed))


IS_PAST: dict[str, IsPast] = {
    "truck_visits": _before("departed", "gate_start", record=TruckVisit),
    "box_visits": _before("left", "entered", record=BoxVisit),
    "lifts": _before("end", record=Lift),
    "train_visits": _train_past,
    "observations": _before("observed", "modelled", record=Observation),
    "reefer_excursions": _before("end", "start", record=ReeferExcursion),
    "reefer_readings": _before("time", record=ReadingReceived),
}
"""Every closed-record table of a yard (`stations.yard.YardRecords`), with its past test."""


def forget_records(yard: Yard, drained: MutableMapping[str, int], before: Minutes) -> int:
    """Drop the yard's drained records past for `before`, and level points before it.

    `drained` holds, per table, how many leading records were drained; it is moved back by the
    number dropped. Returns the number of records dropped.
    """
    dropped = 0
    for name, is_past in IS_PAST.items():
        rows = getattr(yard.records, name)
        limit, first = drained[name], 0
        while first < limit and is_past(rows[first], before):
            first += 1
        if first:
            del rows[:first]
            drained[name] -= first
            dropped += first
    for series in yard.levels.values():
        _trim(series.times, series.values, before)
    return dropped


def _trim(times: array[float], values: array[float], before: Minutes) -> None:
    """Keep the last point at or before `before` (the value held then) and every later one."""
    last = bisect_right(times, before) - 1
    if last > 0:
        del times[:last]
        del values[:last]

"""Dwell against the one-day target, counting every box: those that left and those still there.

Three populations of box visits (`box_visits`), each defined by the window `[start, end)`:

- *departed*: `left` in the window. Their dwell (`left` - `entered`) gives the mean and
  percentiles and `share_within_24h_departed`, and their milestones the stage means.
- *in the yard*: `entered` before the window's end and not `left` before it. Their age at the
  end (`end` - `entered`) gives `in_yard`. A box that left after the window's end was in the
  yard at its end, so a replay `--until T` and a later replay's window ending at T agree.
- *arrivals*: `entered` in the window. `share_within_24h` is the Kaplan-Meier estimate of
  P(dwell <= 24 h) over them, a box still in the yard at the end censored at its age
  (`corridor.kpis.survival`); None for a window shorter than 24 h, which cannot see a box
  stay a day.

Each figure is given per yard and for the corridor (the yards' boxes pooled), overall and `by`
export, import and reefer (either direction); the stages (`corridor.kpis.stages`) overall.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np

from corridor.kpis.frames import Flags, Floats, Indices, Table, Window
from corridor.kpis.result import AgeSummary, Dwell, DwellBreakdown, DwellSummary, InYard
from corridor.kpis.stages import where_the_hours_go
from corridor.kpis.stats import DWELL_TARGET_H, figure, linear_percentiles, summary
from corridor.kpis.survival import share_ended
from stations.types import MINUTES_PER_HOUR

DIRECTIONS = ("export", "import")
_TARGET_MIN = DWELL_TARGET_H * MINUTES_PER_HOUR


class _Populations:
    """The window's departed boxes, boxes in the yard and arrivals, with their hours.

    The boxes in the yard are few, and of the arrivals only those within the target so far
    shape the Kaplan-Meier estimate (those that left by their dwell, `ended_*`, those still in
    the yard by their age, `censored_*`, each in time order as the estimator reads them): all
    are kept as row indices, so each yard and group of boxes is picked out of a short array
    instead of the whole table.
    """

    def __init__(self, boxes: Table, window: Window) -> None:
        self.window = window
        left = boxes.floats("left")
        self.departed = window.holds(left)
        gone = left < window.end  # NaN (still in the yard) is not
        entered = boxes.known_times(
            "entered", self.departed | ~gone, "that left in the window or are in the yard"
        )
        self.dwell = (left - entered) / MINUTES_PER_HOUR
        self.in_yard_rows = np.flatnonzero((entered < window.end) & ~gone)
        self.age = (window.end - entered[self.in_yard_rows]) / MINUTES_PER_HOUR
        self.arrivals = window.holds(entered)
        self.long_enough = window.minutes >= DWELL_TARGET_H * MINUTES_PER_HOUR
        # arrivals within the target so far: those that left, by dwell, and those still in the
        # yard at the end, by age (censored): in time order, as the estimator reads them
        ended = np.flatnonzero(self.arrivals & gone & (self.dwell <= DWELL_TARGET_H))
        young = np.flatnonzero(self.arrivals & ~gone & (entered >= window.end - _TARGET_MIN))
        self.ended_rows, self.ended_hours = _by_time(ended, self.dwell[ended])
        age = (window.end - entered[young]) / MINUTES_PER_HOUR
        self.censored_rows, self.censored_hours = _by_time(young, age)

    @property
    def counted(self) -> Flags:
        """Every row some dwell figure counts."""
        counted = self.departed | self.arrivals
        counted[self.in_yard_rows] = True
        return counted


def populations(boxes: Table, window: Window) -> _Populations:
    """The window's populations, made once per table and window (`Table.memo`)."""
    return boxes.memo(("dwell populations", window), lambda: _Populations(boxes, window))


@dataclass(frozen=True, slots=True)
class GroupSplit:
    """One group of boxes' populations split by yard (scenario order), then the corridor
    (when the table has it, `Table.corridor`)."""

    departed: list[Floats]  # dwell hours of those that left in the window
    ages: list[Floats]  # age at the window's end of those in the yard
    arrivals: list[int]
    ended: list[Indices]  # positions in `_Populations.ended_hours`
    censored: list[Indices]  # positions in `_Populations.censored_hours`


def group_split(boxes: Table, pop: _Populations, rows: Flags) -> GroupSplit:
    """The boxes in `rows` split by yard: made once per table, window and group, for the
    KPIs and the partials alike (`Table.memo`)."""

    def split() -> GroupSplit:
        positions = _scoped_positions(boxes, pop.in_yard_rows, rows)
        return GroupSplit(
            departed=boxes.scoped(pop.dwell, pop.departed & rows),
            ages=[pop.age[at] for at in positions],
            arrivals=boxes.scoped_counts(pop.arrivals & rows),
            ended=_scoped_positions(boxes, pop.ended_rows, rows),
            censored=_scoped_positions(boxes, pop.censored_rows, rows),
        )

    return boxes.memo(("dwell group", pop.window, rows.tobytes()), split)


def dwell_h(boxes: Table, window: Window) -> list[Dwell]:
    """Dwell KPIs per yard, then the corridor's (definitions in the module docstring)."""
    groups = {label: boxes.equals("direction", label) for label in DIRECTIONS}
    boxes_now = populations(boxes, window)
    _check_directions(boxes, boxes_now.counted, groups)
    groups["reefer"] = boxes.flags("reefer")
    every = np.ones(boxes.rows, dtype=np.bool_)
    overall = _summaries(boxes, boxes_now, every)
    by = {label: _summaries(boxes, boxes_now, rows) for label, rows in groups.items()}
    in_yard = np.zeros(boxes.rows, dtype=np.bool_)
    in_yard[boxes_now.in_yard_rows] = True
    stages = where_the_hours_go(boxes, window, boxes_now.departed, in_yard, groups)
    scoped = []
    for scope, (hours, excess, bottleneck) in enumerate(stages):
        split: DwellBreakdown = {
            "export": by["export"][scope],
            "import": by["import"][scope],
            "reefer": by["reefer"][scope],
        }
        scoped.append(
            Dwell(
                **overall[scope],
                by=split,
                stages=hours,
                excess_share=excess,
                bottleneck=bottleneck,
            )
        )
    return scoped


def _summaries(boxes: Table, pop: _Populations, rows: Flags) -> list[DwellSummary]:
    """A `DwellSummary` per yard, then the corridor's, of the box visits in `rows`."""
    split = group_split(boxes, pop, rows)
    # the boxes in the yard are those of the window's end, whatever its start: once per end
    in_yard = boxes.memo(
        ("in-yard figures", pop.window.end, rows.tobytes()),
        lambda: [_in_yard(age) for age in split.ages],
    )
    return [
        DwellSummary(
            **summary(hours),
            share_within_24h=_arrivals_share(ends, seen, count, pop.long_enough),
            share_within_24h_departed=_share(hours),
            in_yard=copied_in_yard(there),
        )
        for hours, there, ends, seen, count in zip(
            split.departed,
            in_yard,
            (pop.ended_hours[at] for at in split.ended),
            (pop.censored_hours[at] for at in split.censored),
            split.arrivals,
            strict=True,
        )
    ]


def _scoped_positions(boxes: Table, picked: Indices, rows: Flags) -> list[Indices]:
    """Positions in `picked` (row indices) of the rows in `rows`, per yard, then all of them
    (when the table has the corridor)."""
    kept = np.flatnonzero(rows[picked])
    yard = boxes.yard[picked[kept]]
    per_yard = [kept[yard == index] for index in range(boxes.n_yards)]
    return [*per_yard, kept] if boxes.corridor else per_yard


def _arrivals_share(
    ends: Floats, censored: Floats, arrivals: int, long_enough: bool
) -> float | None:
    """Kaplan-Meier share within 24 h of the arrivals, from the (ascending) dwell of those that
    left within it and the age of those censored within it (None: no arrival, or a window
    under a day)."""
    if not long_enough:
        return None
    return figure(share_ended(ends, censored, arrivals))


def _by_time(rows: Indices, hours: Floats) -> tuple[Indices, Floats]:
    """`rows` and their `hours`, in ascending order of hours."""
    order = np.argsort(hours)  # the order of ties does not matter to the estimate
    return rows[order], hours[order]


def _share(hours: Floats) -> float | None:
    """The share of `hours` within the target (<= 24 h); None when there are none."""
    if hours.size == 0:
        return None
    return figure(float(np.count_nonzero(hours <= DWELL_TARGET_H)) / hours.size)


def _in_yard(age: Floats) -> InYard:
    """How many boxes, how many over the target, and their age (None: the yard is empty)."""
    if age.size == 0:
        return InYard(boxes=0, over_24h=0, age_h=AgeSummary(p50=None, p90=None, max=None))
    p50, p90 = (figure(point) for point in linear_percentiles(age, (50, 90)))
    return InYard(
        boxes=int(age.size),
        over_24h=int(np.count_nonzero(age > DWELL_TARGET_H)),
        age_h=AgeSummary(p50=p50, p90=p90, max=figure(float(age.max()))),
    )


def copied_in_yard(in_yard: InYard) -> InYard:
    """A copy of `in_yard` for one window's figures (another window's are the same values:
    the boxes in the yard depend on the window's end alone)."""
    return InYard(
        boxes=in_yard["boxes"], over_24h=in_yard["over_24h"], age_h=AgeSummary(**in_yard["age_h"])
    )


def _check_directions(boxes: Table, rows: Flags, groups: dict[str, Any]) -> None:
    """Every counted box is export or import: none may fall outside the dwell split."""
    neither = rows & ~(groups["export"] | groups["import"])
    if neither.any():
        labels = sorted({str(label) for label in boxes.frame["direction"][neither].unique()})
        raise ValueError(
            f"box_visits.direction: {int(neither.sum())} rows with unknown value(s) "
            f"{', '.join(labels)}; known: {', '.join(DIRECTIONS)}"
        )

"""Where the hours go: a box's dwell split into the stages of its stay, from its milestones.

Every box visit carries the times it passed each milestone (`stations.records.BoxVisit`), so
its dwell splits into consecutive stages that add up to it exactly:

- export: `gate_to_stack` (gate-in to set down in the stack), `waiting_for_inspection` (a
  customs hold waiting for a bay), `inspection`, `waiting_for_train` (cleared until its train's
  cut-off), `loading` (cut-off to departure: a track, wagons, the gantries, the timetable);
- import: `waiting_for_unloading` (train arrival until the box is in the stack),
  `waiting_for_pickup` (in the stack until its truck leaves the gate with it).

`stages` are the mean hours per stage of the boxes that left in the window, so per direction
they add up to that direction's mean dwell (`dwell_h.by.<direction>.mean`). `excess_share`
splits the hours beyond the 24 h target of every box over it (those that left in the window
and those still in the yard at its end, by their age) between the stages, and `bottleneck`
names the stage with the largest share. Definitions in `docs/kpis.md`.
"""

from dataclasses import dataclass

import numpy as np

from corridor.kpis.frames import Codes, Flags, Floats, Indices, Table, Window
from corridor.kpis.result import Bottleneck, DwellStages, ExportStages, ImportStages
from corridor.kpis.stats import DWELL_TARGET_H, figure
from stations.types import MINUTES_PER_HOUR

MILESTONES = {
    "export": ("entered", "stacked", "inspection_start", "cleared", "loading_start", "left"),
    "import": ("entered", "stacked", "left"),
}
"""The milestones of a box's stay, in order; each stage runs from one to the next."""

STAGES = {
    "export": tuple(ExportStages.__annotations__),
    "import": tuple(ImportStages.__annotations__),
}
"""The stages of each direction, in the order a box goes through them."""
ALL_STAGES = (*STAGES["export"], *STAGES["import"])


@dataclass(frozen=True, slots=True)
class StageHours:
    """Per scope (yards, then the corridor) and stage: hours of the departed boxes, their
    count, and the excess hours (beyond 24 h) of the boxes over the target."""

    hours: Floats  # (scopes, stages)
    departed: Floats  # (scopes,)
    excess: Floats  # (scopes, stages)


def where_the_hours_go(
    boxes: Table, window: Window, departed: Flags, in_yard: Flags, groups: dict[str, Flags]
) -> list[tuple[DwellStages, DwellStages, Bottleneck]]:
    """Per scope: mean hours per stage, each stage's share of the excess hours, bottleneck.

    `departed` marks the box visits that left in the window, `in_yard` those in the yard at
    its end, `groups` each direction's rows.
    """
    export, import_ = (
        _stage_hours(
            boxes, window, direction, departed & groups[direction], in_yard & groups[direction]
        )
        for direction in ("export", "import")
    )
    excess = np.hstack([export.excess, import_.excess])
    shares = _ratio(excess, excess.sum(axis=1, keepdims=True))
    means = np.hstack(
        [
            _ratio(export.hours, export.departed[:, None]),
            _ratio(import_.hours, import_.departed[:, None]),
        ]
    )
    return [
        (_stage_figures(means[scope]), _stage_figures(shares[scope]), _bottleneck(shares[scope]))
        for scope in range(boxes.n_scopes)
    ]


def _stage_hours(
    boxes: Table, window: Window, direction: str, departed: Flags, in_yard: Flags
) -> StageHours:
    """Stage hours of one direction's boxes that left in the window or are in the yard.

    Its two halves are kept on the table (`Table.memo`, keyed by the rows they read): the
    KPIs ask for both at once, the partials for each apart, of the same rows."""
    hours, counts, excess = _departed_stages(boxes, direction, departed)
    return StageHours(
        hours=hours,
        departed=counts,
        excess=excess + _in_yard_excess(boxes, window, direction, in_yard),
    )


def _departed_stages(
    boxes: Table, direction: str, departed: Flags
) -> tuple[Floats, Floats, Floats]:
    """Of the `departed` rows of one direction, per scope: hours per stage, how many, and the
    excess hours per stage."""

    def make() -> tuple[Floats, Floats, Floats]:
        milestones, n_yards, corridor = MILESTONES[direction], boxes.n_yards, boxes.corridor
        left_rows = np.flatnonzero(departed)
        gone = _milestones(boxes, milestones, left_rows)
        hours = np.diff(gone, axis=0) / MINUTES_PER_HOUR
        if not (hours >= 0).all():  # NaN fails too: one pass when the records are sound
            _refuse_milestones(gone, milestones, direction)
        left_yard = boxes.yard[left_rows].astype(np.intp)  # as bincount wants it, once
        counts = np.bincount(left_yard, minlength=n_yards).astype(np.float64)
        return (
            _scoped_lines(left_yard, hours, n_yards, corridor),
            np.append(counts, counts.sum()) if corridor else counts,
            _excess_hours(left_yard, gone, hours, n_yards, corridor),
        )

    return boxes.memo(("departed stages", direction, departed.tobytes()), make)


def _in_yard_excess(boxes: Table, window: Window, direction: str, in_yard: Flags) -> Floats:
    """Of the `in_yard` rows of one direction at the window's end, per scope: the excess
    hours per stage so far."""

    def make() -> Floats:
        milestones = MILESTONES[direction]
        yard_rows = np.flatnonzero(in_yard)
        # a milestone still to come (NaN) or after the window is the window's end, so a box
        # is in its current stage until then, and in none of the later ones
        there = np.fmin(_milestones(boxes, milestones, yard_rows), window.end)
        there_hours = np.diff(there, axis=0) / MINUTES_PER_HOUR
        yard = boxes.yard[yard_rows].astype(np.intp)
        return _excess_hours(yard, there, there_hours, boxes.n_yards, boxes.corridor)

    return boxes.memo(("in-yard stages", window.end, direction, in_yard.tobytes()), make)


def _milestones(boxes: Table, milestones: tuple[str, ...], rows: Indices) -> Floats:
    """The milestones of `rows`, one line per milestone (each line a contiguous take)."""
    times = np.empty((len(milestones), rows.size))
    for line, name in enumerate(milestones):
        np.take(boxes.floats(name), rows, out=times[line])
    return times


def _excess_hours(
    yard: Codes, times: Floats, hours: Floats, n_yards: int, corridor: bool
) -> Floats:
    """Per scope and stage, the hours beyond the target of the boxes over it: a box's excess
    split between its stages in proportion to their hours."""
    total = (times[-1] - times[0]) / MINUTES_PER_HOUR
    with np.errstate(divide="ignore", invalid="ignore"):  # a 0 h stay is not over the target
        share_over = np.where(total > DWELL_TARGET_H, 1.0 - DWELL_TARGET_H / total, 0.0)
    return _scoped_lines(yard, hours * share_over, n_yards, corridor)


def _refuse_milestones(times: Floats, milestones: tuple[str, ...], label: str) -> None:
    """Name the first milestone missing, or out of order, among boxes that left."""
    for line, name in enumerate(milestones):
        missing = int(np.isnan(times[line]).sum())
        if missing:
            raise ValueError(
                f"box_visits.{name}: {missing} {label} rows that left in the window "
                f"have no {name} time"
            )
    backwards = np.count_nonzero(np.diff(times, axis=0) < 0, axis=1)
    line = int(np.flatnonzero(backwards)[0])
    after, before = milestones[line + 1], milestones[line]
    raise ValueError(
        f"box_visits.{after}: {backwards[line]} {label} rows that left in the window have "
        f"{after} before {before}"
    )


def _scoped_lines(yard: Codes, values: Floats, n_yards: int, corridor: bool) -> Floats:
    """Each line of `values` summed per yard, then the corridor's (when wanted): (scopes,
    lines)."""
    sums = np.zeros((n_yards + int(corridor), values.shape[0]))
    for line, row in enumerate(values):
        sums[:n_yards, line] = np.bincount(yard, weights=row, minlength=n_yards)
    if corridor:
        sums[n_yards] = sums[:n_yards].sum(axis=0)
    return sums


def _ratio(numerator: Floats, denominator: Floats) -> Floats:
    """numerator / denominator, NaN where the denominator is 0 (nothing was counted)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio: Floats = np.where(denominator > 0, numerator / denominator, np.nan)
    return ratio


def _stage_figures(values: Floats) -> DwellStages:
    """The export stages' figures, then the import stages', as the report writes them."""
    gate_to_stack, waiting, inspection, for_train, loading, unloading, pickup = map(
        figure, values.tolist()
    )
    return {
        "export": ExportStages(
            gate_to_stack=gate_to_stack,
            waiting_for_inspection=waiting,
            inspection=inspection,
            waiting_for_train=for_train,
            loading=loading,
        ),
        "import": ImportStages(waiting_for_unloading=unloading, waiting_for_pickup=pickup),
    }


def _bottleneck(shares: Floats) -> Bottleneck:
    """The stage with the largest share of the excess hours (the first, on a tie)."""
    if not np.isfinite(shares).all():
        return Bottleneck(stage=None, share=None)
    top = int(np.argmax(shares))
    return Bottleneck(stage=ALL_STAGES[top], share=figure(float(shares[top])))

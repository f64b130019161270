"""Per-yard partial KPIs: what the corridor's figures are made of, one yard at a time.

Workers of one group each hold some yards, so no worker sees the corridor. Each writes, per
yard and window, a *partial*: the sufficient statistics of every corridor KPI, so that
`corridor.kpis.merge.merge` of all the yards' partials gives the corridor's `Kpis` whichever
worker made which (and the single worker uses the same merge, so 1 and N workers agree):

- counts (trucks, TEU, lifts, readings, excursions, boxes) and sums (excursion minutes, stage
  hours, excess hours): added;
- tallies (turnaround, gate wait, dwell, age in the yard): a count, an exact sum and a 1 %
  log histogram (`corridor.kpis.histogram`): means exact, percentiles within 0.5 %;
- maxima (oldest box, longest power cut): the largest;
- utilisation: each yard's time-weighted busy level and its capacity (the corridor's figure is
  busy summed over capacity summed, `corridor.kpis.levels`);
- the gate queue: the yard's queue steps inside the window, since the corridor's queue is the
  sum of the yards' at each moment (its max is not a sum of maxima);
- the Kaplan-Meier share within 24 h: the arrivals' count and the dwell (those that left) or
  age (those still there) of the arrivals under 24 h, since the estimate depends on their order.

A partial is JSON data (`Partial`), stored and sent as it is. The definitions are those of
`corridor.kpis.report.compute_kpis`, computed by the same helpers on the yard's rows.
"""

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from corridor.kpis.dwell import (
    DIRECTIONS,
    GroupSplit,
    _check_directions,
    _Populations,
    group_split,
    populations,
)
from corridor.kpis.frames import Floats, Table, Window, prepare_tables
from corridor.kpis.histogram import Histogram, histograms
from corridor.kpis.levels import _lifting_minutes, levels_over
from corridor.kpis.reefer import reefer_parts
from corridor.kpis.stages import _stage_hours
from corridor.kpis.stats import DWELL_TARGET_H
from stations.spec import StationSpec
from stations.types import Minutes

Partial = Mapping[str, Any]
"""One yard's partial over one window (JSON data; the keys are read by `merge`)."""

LEVEL_USE = {
    "gate": "gate_busy",
    "exception_lane": "exception_busy",
    "plugs": "plugs_in_use",
    "stack": "stack_teu",
}
"""The utilisations read from a level (`handling` is read from the lifts)."""


def yard_partials(
    frames: Mapping[str, pd.DataFrame],
    *,
    start: Minutes,
    end: Minutes,
    stations: Mapping[str, StationSpec],
    tables: Mapping[str, Table] | None = None,
) -> dict[str, Partial]:
    """Each yard's partial over the window `[start, end)`, from the record tables (`tables`:
    already prepared, as `corridor.kpis.report.compute_kpis` takes them)."""
    window = Window(start, end)
    yards = list(stations)
    if tables is None:
        tables = prepare_tables(frames, yards)
    visits, boxes, lifts = tables["truck_visits"], tables["box_visits"], tables["lifts"]
    departed = window.holds(visits.floats("departed"))
    gate_start = window.holds(visits.floats("gate_start"))
    turn = visits.scoped(
        visits.floats("departed") - visits.known_times("arrived", departed, "that departed"),
        departed,
    )
    wait = visits.scoped(
        visits.floats("gate_start")
        - visits.known_times("arrived", gate_start, "with gate_start in the window"),
        gate_start,
    )
    levels = levels_over(tables["levels"], window)
    dwell = _dwell_parts(boxes, window)
    stages = _stage_parts(boxes, window)
    teu = boxes.ints("teu").astype(np.float64)
    teu_in = boxes.scoped_sums(teu, window.holds(boxes.floats("entered")))
    teu_out = boxes.scoped_sums(teu, window.holds(boxes.floats("left")))
    moves = lifts.scoped_counts(window.holds(lifts.floats("end")))
    used = {name: levels.of(level)[0] for name, level in LEVEL_USE.items()}
    used["handling"] = _lifting_minutes(lifts, window) / window.minutes
    reefers = _reefer_parts(tables["reefer_excursions"], tables["reefer_readings"], window)
    counts = visits.scoped_counts(departed)
    n_yards = len(stations)
    tallies = histograms([*turn[:n_yards], *wait[:n_yards]])
    partials: dict[str, Partial] = {}
    for at, (yard, spec) in enumerate(stations.items()):
        key = levels.key(at, "gate_queue")
        times, values = levels.series.in_window(key, window)
        capacity = {
            "gate": spec.gate.lanes,
            "exception_lane": spec.gate.exception_lanes,
            "handling": spec.handling.rmgs + spec.handling.reach_stackers,
            "plugs": spec.stack.reefer_plugs,
            "stack": spec.stack.capacity_teu,
        }
        partials[yard] = {
            "window": [float(start), float(end)],
            "trucks": counts[at],
            "truck_turn_min": tallies[at],
            "gate_wait_min": tallies[n_yards + at],
            "gate_queue": (
                {"time": times.tolist(), "value": values.tolist()}
                if levels.series.has(key)
                else None
            ),
            "dwell": {group: parts[at] for group, parts in dwell.items()},
            "stages": {part: rows[at] for part, rows in stages.items()},
            "throughput": {
                "teu_in": int(teu_in[at]),
                "teu_out": int(teu_out[at]),
                "lifts": moves[at],
            },
            "utilisation": {
                name: [None if np.isnan(busy[at]) else float(busy[at]), capacity[name]]
                for name, busy in used.items()
            },
            "reefer": reefers[at],
        }
    return partials


def _dwell_parts(boxes: Table, window: Window) -> dict[str, list[dict[str, Any]]]:
    """Per group of boxes (all, export, import, reefer), per yard: the dwell statistics (the
    corridor's entries dropped). The departed boxes' histograms are made in one `histograms`
    call; those of the boxes in the yard, which depend on the window's end alone, once per
    table and end (`_in_yard_parts`)."""
    groups = {label: boxes.equals("direction", label) for label in DIRECTIONS}
    pop = populations(boxes, window)
    _check_directions(boxes, pop.counted, groups)
    groups["reefer"] = boxes.flags("reefer")
    every = np.ones(boxes.rows, dtype=np.bool_)
    splits = {
        label: group_split(boxes, pop, rows) for label, rows in {"all": every, **groups}.items()
    }
    n_yards = boxes.n_yards
    made = histograms([split.departed[at] for split in splits.values() for at in range(n_yards)])
    in_yard = _in_yard_parts(boxes, window, list(splits.values()))
    return {
        label: [
            _dwell_yard(pop, split, at, made[g * n_yards + at], in_yard[g][at])
            for at in range(n_yards)
        ]
        for g, (label, split) in enumerate(splits.items())
    }


def _in_yard_parts(
    boxes: Table, window: Window, splits: list[GroupSplit]
) -> list[list[dict[str, Any]]]:
    """Per group (`splits`, in `_dwell_parts`' order), per yard: the boxes in the yard at the
    window's end, those over the target, the oldest and the histogram of their ages. Every
    window ending at that moment has the same (`corridor.kpis.dwell`: the boxes in the yard
    are those entered before the end and not left by it), so they are made once per table and
    end (`Table.memo`) and each window's partial takes a copy of the figures."""

    def make() -> list[list[dict[str, Any]]]:
        n_yards = boxes.n_yards
        ages = [split.ages[at] for split in splits for at in range(n_yards)]
        made = histograms(ages)
        return [
            [_in_yard(ages[g * n_yards + at], made[g * n_yards + at]) for at in range(n_yards)]
            for g in range(len(splits))
        ]

    return boxes.memo(("in-yard parts", window.end), make)


def _in_yard(ages: Floats, histogram: Histogram) -> dict[str, Any]:
    return {
        "boxes": int(ages.size),
        "over_24h": int(np.count_nonzero(ages > DWELL_TARGET_H)),
        "max": float(ages.max()) if ages.size else None,
        "age": histogram,
    }


def _dwell_yard(
    pop: _Populations, split: GroupSplit, at: int, departed: Histogram, in_yard: dict[str, Any]
) -> dict[str, Any]:
    """One group's dwell statistics in one yard, with its histograms already made."""
    return {
        "departed": departed,
        "within_24h": int(np.count_nonzero(split.departed[at] <= DWELL_TARGET_H)),
        "arrivals": split.arrivals[at],
        "ended": pop.ended_hours[split.ended[at]].tolist(),
        "censored": pop.censored_hours[split.censored[at]].tolist(),
        "long_enough": bool(pop.long_enough),
        "in_yard": dict(in_yard),  # a window's own dict: the age histogram is shared, read-only
    }


def _stage_parts(boxes: Table, window: Window) -> dict[str, list[list[float]]]:
    """Per yard: stage hours of the departed boxes, their count per direction, and the excess
    hours of the departed boxes and of those in the yard apart (the corridor's are summed in
    that order, `corridor.kpis.stages`, so the merge adds them the same way to the bit)."""
    groups = {label: boxes.equals("direction", label) for label in DIRECTIONS}
    pop = populations(boxes, window)
    in_yard = np.zeros(boxes.rows, dtype=np.bool_)
    in_yard[pop.in_yard_rows] = True
    none = np.zeros(boxes.rows, dtype=np.bool_)
    gone = [
        _stage_hours(boxes, window, label, pop.departed & groups[label], none)
        for label in DIRECTIONS
    ]
    there = [
        _stage_hours(boxes, window, label, none, in_yard & groups[label]) for label in DIRECTIONS
    ]
    hours = np.hstack([part.hours for part in gone])
    return {
        "hours": [hours[at].tolist() for at in range(boxes.n_yards)],
        "departed": [[float(part.departed[at]) for part in gone] for at in range(boxes.n_yards)],
        "excess_departed": [
            np.hstack([part.excess[at] for part in gone]).tolist() for at in range(boxes.n_yards)
        ],
        "excess_in_yard": [
            np.hstack([part.excess[at] for part in there]).tolist() for at in range(boxes.n_yards)
        ],
    }


def _reefer_parts(excursions: Table, readings: Table, window: Window) -> list[dict[str, Any]]:
    """Per yard: readings and temperature excursions counted, their minutes, longest cut."""
    counts, started, minutes, off = reefer_parts(excursions, readings, window)
    return [
        {
            "readings": counts[at],
            "excursions": started[at],
            "excursion_minutes": minutes[at],
            "max_off_power_min": float(off[at].max(initial=0.0)),
        }
        for at in range(excursions.n_yards)
    ]

"""What held a yard back over a window: waits and utilisation per resource, the bottleneck named.

For each resource of a yard (`stations.yard.Yard`), from the records alone:

- *utilisation*: server-minutes busy inside the window over capacity × window minutes. Busy
  spans: a truck at a smart lane or the manual lane `[gate_start, gate_end)`, a reach stacker
  lifting a truck's box `[lift_start, lift_end)` (reach stackers serve trucks only), an RMG
  lift `[start, end)` (RMGs serve trains; from the `lifts` table, which the SQL store does not
  keep: no figure there), a box in a customs bay `[inspection_start, cleared)`, a reefer on a
  plug `[stacked + plug_wait_min, left)`, a train on a track `[work_start, work_end)`. A span
  still open counts to the window's end; a record not written yet (a truck still in the yard,
  a train still at work) does not count.
- *wait*: minutes a customer waited for the resource, counted in the window its wait ended:
  trucks at the gate (`gate_start - arrived`, smart lanes and manual lane apart); export trucks
  from the gate to their lift less the yard's mean drive (`lift_start - gate_end - mean
  yard_drive_min`, the wait for a reach stacker; as a mean only, since one truck's drive is not
  recorded); held boxes for a customs bay (`inspection_start - stacked`); stacked reefers for
  a plug (`plug_wait_min`); arriving trains for a track (`work_start - scheduled`). RMGs work
  for trains, which record no request time: no wait.
- *wait share*: the resource's waiting hours over all waiting hours of the yard in the window.

The bottleneck is the resource with the highest utilisation among those that made customers
wait: a mean wait of at least `SIGNIFICANT_WAIT_MIN`, or, for a resource whose waits are not
recorded (RMGs), a utilisation of at least `SATURATED`. A busy resource nobody waits for is not
holding the yard back; a wait at an idle resource is chance. Ties go to the larger wait share.
None when no resource qualifies: nothing held the yard back in that window.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from corridor.kpis.frames import Floats, Window
from stations.spec import StationSpec

SIGNIFICANT_WAIT_MIN = 5.0
"""A mean wait at least this long (minutes) counts as the resource holding customers back."""
SATURATED = 0.9
"""Utilisation from which a resource without recorded waits counts as holding the yard back."""
RESOURCES = (
    "gate",
    "exception_lane",
    "reach_stackers",
    "rmgs",
    "inspection_bays",
    "plugs",
    "tracks",
)
"""Every resource, in the order a box meets them (the report's order)."""


@dataclass(frozen=True, slots=True)
class ResourceLoad:
    """One resource of one yard over the window."""

    resource: str  # one of RESOURCES
    capacity: int  # servers: lanes, machines, bays, plugs, tracks
    utilisation: float | None  # busy share of capacity × window; None without capacity
    waits: int  # waits that ended in the window
    wait_mean_min: float | None  # None: no wait ended, or waits not recorded (RMGs)
    wait_h: float  # waiting hours in all (mean × waits)
    wait_share: float | None  # of the yard's waiting hours; None when nobody waited


@dataclass(frozen=True, slots=True)
class YardBottleneck:
    """A yard's resources over `[start, end)` (Minutes) and the one that held it back."""

    yard: str
    start: float
    end: float
    resources: list[ResourceLoad]
    bottleneck: str | None


def bottlenecks(
    frames: Mapping[str, pd.DataFrame], stations: Mapping[str, StationSpec], window: Window
) -> list[YardBottleneck]:
    """Every yard of `stations` over the window, from record frames (`truck_visits`,
    `box_visits`, `train_visits`, and `lifts` when there is one)."""
    missing = [name for name in _NEEDED if name not in frames]
    if missing:
        raise ValueError(f"frames: missing record table(s) {', '.join(missing)}")
    result = []
    for yard, spec in stations.items():
        rows = {name: frame[frame["yard"] == yard] for name, frame in frames.items()}
        result.append(_yard(yard, spec, rows, window))
    return result


_NEEDED = ("truck_visits", "box_visits", "train_visits")


def _yard(
    yard: str, spec: StationSpec, rows: Mapping[str, pd.DataFrame], window: Window
) -> YardBottleneck:
    trucks, boxes, trains = rows["truck_visits"], rows["box_visits"], rows["train_visits"]
    lifts = rows.get("lifts")
    manual = trucks["exception_lane"].to_numpy(dtype=np.bool_)
    smart_trucks, manual_trucks = trucks[~manual], trucks[manual]
    drive = float(spec.gate.yard_drive_min.mean)
    exports = trucks[trucks["direction"] == "export"]
    held = boxes[boxes["inspected"].to_numpy(dtype=np.bool_) & (boxes["direction"] == "export")]
    reefers = boxes[boxes["reefer"].to_numpy(dtype=np.bool_)]
    arrivals = trains[trains["direction"] == "import"]
    measured = [
        _load(
            "gate",
            spec.gate.lanes,
            window,
            _busy(smart_trucks, "gate_start", "gate_end", window),
            _waits(smart_trucks, "arrived", "gate_start", window),
        ),
        _load(
            "exception_lane",
            spec.gate.exception_lanes,
            window,
            _busy(manual_trucks, "gate_start", "gate_end", window),
            _waits(manual_trucks, "arrived", "gate_start", window),
        ),
        _load(
            "reach_stackers",
            spec.handling.reach_stackers,
            window,
            _busy(trucks, "lift_start", "lift_end", window),
            _waits(exports, "gate_end", "lift_start", window, less=drive),
        ),
        _load(
            "rmgs",
            spec.handling.rmgs,
            window,
            None
            if lifts is None
            else _busy(lifts[lifts["equipment"] == "rmg"], "start", "end", window),
            None,
        ),
        _load(
            "inspection_bays",
            spec.inspection.bays,
            window,
            _busy(held, "inspection_start", "cleared", window),
            _waits(held, "stacked", "inspection_start", window),
        ),
        _plugs(spec.stack.reefer_plugs, window, reefers),
        _load(
            "tracks",
            spec.rail.loading_tracks,
            window,
            _busy(trains, "work_start", "work_end", window),
            _waits(arrivals, "scheduled", "work_start", window),
        ),
    ]
    total_h = sum(load.wait_h for load in measured)
    loads = [_with_share(load, total_h) for load in measured]
    return YardBottleneck(yard, window.start, window.end, loads, _named(loads))


Waits = tuple[int, float]  # (count, mean minutes; NaN without any)


def _busy(frame: pd.DataFrame, begin: str, finish: str, window: Window) -> float:
    """Server-minutes of the spans `[begin, finish)` inside the window (unfinished: open)."""
    start = frame[begin].to_numpy(dtype=np.float64)
    end = frame[finish].to_numpy(dtype=np.float64)
    started = ~np.isnan(start)
    inside: Floats = window.overlap(start[started], end[started])
    return float(inside.sum())


def _waits(
    frame: pd.DataFrame, begin: str, served: str, window: Window, less: float = 0.0
) -> Waits:
    """Waits `served - begin` (less a known travel time, as a mean) ending in the window."""
    start = frame[begin].to_numpy(dtype=np.float64)
    end = frame[served].to_numpy(dtype=np.float64)
    ended = window.holds(end) & ~np.isnan(start)
    count = int(ended.sum())
    if not count:
        return 0, math.nan
    mean = float(np.mean(end[ended] - start[ended])) - less
    return count, max(0.0, mean)


def _load(
    name: str, capacity: int, window: Window, busy_min: float | None, waits: Waits | None
) -> ResourceLoad:
    used = None
    if busy_min is not None and capacity > 0:
        used = busy_min / (capacity * window.minutes)
    count, mean = waits if waits is not None else (0, math.nan)
    return ResourceLoad(
        resource=name,
        capacity=capacity,
        utilisation=None if used is None else round(used, 4),
        waits=count,
        wait_mean_min=None if math.isnan(mean) else round(mean, 2),
        wait_h=0.0 if math.isnan(mean) else round(count * mean / 60.0, 3),
        wait_share=None,
    )


def _plugs(capacity: int, window: Window, reefers: pd.DataFrame) -> ResourceLoad:
    """Plugs: each stacked reefer holds one from the end of its wait until it leaves."""
    stacked = reefers["stacked"].to_numpy(dtype=np.float64)
    wait = reefers["plug_wait_min"].to_numpy(dtype=np.float64)
    plugged = stacked + wait
    left = reefers["left"].to_numpy(dtype=np.float64)
    ended = window.holds(plugged)
    count = int(ended.sum())
    mean = float(np.mean(wait[ended])) if count else math.nan
    known = ~np.isnan(plugged)
    busy = float(window.overlap(plugged[known], left[known]).sum())
    return _load("plugs", capacity, window, busy, (count, mean))


def _with_share(load: ResourceLoad, total_h: float) -> ResourceLoad:
    share = round(load.wait_h / total_h, 4) if total_h > 0 else None
    return ResourceLoad(
        load.resource,
        load.capacity,
        load.utilisation,
        load.waits,
        load.wait_mean_min,
        load.wait_h,
        share,
    )


def _named(loads: list[ResourceLoad]) -> str | None:
    """The busiest resource among those holding customers back (module docstring)."""
    holding = [
        load
        for load in loads
        if load.utilisation is not None
        and (
            (load.wait_mean_min is not None and load.wait_mean_min >= SIGNIFICANT_WAIT_MIN)
            or (load.resource == "rmgs" and load.utilisation >= SATURATED)
        )
    ]
    if not holding:
        return None
    best = max(holding, key=lambda load: (load.utilisation or 0.0, load.wait_share or 0.0))
    return best.resource

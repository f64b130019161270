"""The corridor's KPIs merged from the yards' partials (`corridor.kpis.partials`).

One function, `merge`, used by every worker whatever yards it holds and by the single worker
alike, so the corridor figure does not depend on who computed which yard. Against
`corridor.kpis.report.compute_kpis` over the same records: counts, maxima, utilisations, the
gate queue, stage hours and shares and the Kaplan-Meier share are the same to the last
written digit (the yards' sums are added in the order `compute_kpis` adds them); the means of
turnaround, gate wait and dwell add the yards' exact sums, which may differ from numpy's pooled
sum in the last bits of a float (so, rarely, in the sixth written digit); the percentiles of
turnaround, gate wait, dwell and age in the yard are read from 1 % histograms and are within
0.5 % of the exact ones (`corridor.kpis.histogram`).
"""

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from corridor.kpis.dwell import copied_in_yard
from corridor.kpis.frames import Window
from corridor.kpis.histogram import combined, percentiles, tally
from corridor.kpis.levels import _share
from corridor.kpis.partials import Partial
from corridor.kpis.result import (
    AgeSummary,
    Dwell,
    DwellSummary,
    InYard,
    Kpis,
    QueueLength,
    ReeferKpis,
    Throughput,
    Utilisation,
)
from corridor.kpis.stages import _bottleneck, _ratio, _stage_figures
from corridor.kpis.stats import figure
from corridor.kpis.steps import step_stats, summed
from corridor.kpis.survival import share_ended

USES = ("gate", "exception_lane", "handling", "plugs", "stack")


Shared = dict[tuple[str, float], InYard]
"""The corridor's boxes in the yards per group of boxes and moment (a window's end), merged
for one window and read by the others ending then (`merge`)."""


def merge(partials: Sequence[Partial], shared: Shared | None = None) -> Kpis:
    """The corridor's `Kpis` from every yard's partial over one window, in scenario order.

    `shared`: what one call merged of the boxes in the yards, which depends on the window's
    end alone (`corridor.kpis.dwell`), for the next calls over windows ending at the same
    moment with the same yards' partials (the live snapshot's four windows) to read instead
    of merging it again."""
    if not partials:
        raise ValueError("partials: the corridor needs at least one yard's partial")
    windows = {tuple(part["window"]) for part in partials}
    if len(windows) != 1:
        raise ValueError(f"partials: of different windows {sorted(windows)}; merge one window")
    start, end = partials[0]["window"]
    window = Window(start, end)
    teu_in = sum(int(part["throughput"]["teu_in"]) for part in partials)
    teu_out = sum(int(part["throughput"]["teu_out"]) for part in partials)
    return Kpis(
        trucks=sum(int(part["trucks"]) for part in partials),
        truck_turn_min=tally(combined(part["truck_turn_min"] for part in partials)),
        gate_wait_min=tally(combined(part["gate_wait_min"] for part in partials)),
        gate_queue_len=_queue(partials, window),
        dwell_h=_dwell(partials, end, shared),
        throughput=Throughput(
            teu_in=teu_in,
            teu_out=teu_out,
            lifts=sum(int(part["throughput"]["lifts"]) for part in partials),
            teu_per_day=figure((float(teu_in) + float(teu_out)) / window.days),
        ),
        utilisation=Utilisation(**{name: _use(partials, name) for name in USES}),  # type: ignore[typeddict-item]
        reefer=ReeferKpis(
            readings=sum(int(part["reefer"]["readings"]) for part in partials),
            excursions=sum(int(part["reefer"]["excursions"]) for part in partials),
            excursion_minutes=figure(
                float(np.sum([float(part["reefer"]["excursion_minutes"]) for part in partials]))
            ),
            max_off_power_min=figure(
                max(float(part["reefer"]["max_off_power_min"]) for part in partials)
            ),
        ),
    )


def complete(yards: Sequence[str], partials: Mapping[str, Partial]) -> Kpis | None:
    """The corridor's `Kpis` once every one of `yards` (scenario order) has its partial, else
    None: what a store calls after committing a yard's partial, whichever worker wrote it."""
    if not yards or any(yard not in partials for yard in yards):
        return None
    return merge([partials[yard] for yard in yards])


def _queue(partials: Sequence[Partial], window: Window) -> QueueLength:
    """The corridor's queue: the yards' queues summed at each moment (`levels.gate_queue_len`)."""
    parts = [
        (np.asarray(q["time"], dtype=np.float64), np.asarray(q["value"], dtype=np.float64))
        for q in (part["gate_queue"] for part in partials)
        if q is not None
    ]
    if not parts:
        return QueueLength(mean=None, max=None)
    mean, peak = step_stats(*summed(parts, window), window)
    return QueueLength(mean=figure(mean), max=figure(peak))


def _use(partials: Sequence[Partial], name: str) -> float | None:
    """Busy summed over capacity summed, over the yards with data (`levels._share`)."""
    busy = np.asarray(
        [
            np.nan if part["utilisation"][name][0] is None else part["utilisation"][name][0]
            for part in partials
        ],
        dtype=np.float64,
    )
    return _share(busy, [int(part["utilisation"][name][1]) for part in partials])[-1]


def _dwell(partials: Sequence[Partial], end: float, shared: Shared | None) -> Dwell:
    """Dwell overall, by kind of box, and where the hours go (`corridor.kpis.dwell`)."""
    groups = {
        group: _dwell_summary([part["dwell"][group] for part in partials], (group, end), shared)
        for group in ("all", "export", "import", "reefer")
    }
    hours, excess, bottleneck = _stages([part["stages"] for part in partials])
    return Dwell(
        **groups["all"],
        by={"export": groups["export"], "import": groups["import"], "reefer": groups["reefer"]},
        stages=hours,
        excess_share=excess,
        bottleneck=bottleneck,
    )


def _dwell_summary(
    parts: list[dict[str, Any]], moment: tuple[str, float], shared: Shared | None
) -> DwellSummary:
    """One group of boxes' dwell figures from the yards' statistics (the boxes in the yards
    as `shared` has them for the group and `moment`, else merged and kept there)."""
    departed = combined(part["departed"] for part in parts)
    arrivals = sum(int(part["arrivals"]) for part in parts)
    share = None
    if parts[0]["long_enough"]:
        ends = np.sort(np.concatenate([np.asarray(p["ended"], dtype=np.float64) for p in parts]))
        seen = np.sort(np.concatenate([np.asarray(p["censored"], dtype=np.float64) for p in parts]))
        share = figure(share_ended(ends, seen, arrivals))
    within = sum(int(part["within_24h"]) for part in parts)
    return DwellSummary(
        **tally(departed),
        share_within_24h=share,
        share_within_24h_departed=figure(within / departed.n) if departed.n else None,
        in_yard=_shared_in_yard(parts, moment, shared),
    )


def _shared_in_yard(
    parts: list[dict[str, Any]], moment: tuple[str, float], shared: Shared | None
) -> InYard:
    """`_in_yard` of the parts, or a copy of what `shared` kept of it for the moment."""
    if shared is None:
        return _in_yard([part["in_yard"] for part in parts])
    kept = shared.get(moment)
    if kept is None:
        kept = shared[moment] = _in_yard([part["in_yard"] for part in parts])
    return copied_in_yard(kept)


def _in_yard(parts: list[dict[str, Any]]) -> InYard:
    """The boxes in the yards, those over 24 h, and their age (p50, p90 within 0.5 %, max)."""
    boxes = sum(int(part["boxes"]) for part in parts)
    if boxes == 0:
        return InYard(boxes=0, over_24h=0, age_h=AgeSummary(p50=None, p90=None, max=None))
    p50, p90 = (figure(v) for v in percentiles(combined(p["age"] for p in parts), (50, 90)))
    oldest = max(float(part["max"]) for part in parts if part["max"] is not None)
    return InYard(
        boxes=boxes,
        over_24h=sum(int(part["over_24h"]) for part in parts),
        age_h=AgeSummary(p50=p50, p90=p90, max=figure(oldest)),
    )


def _stages(parts: list[dict[str, Any]]) -> tuple[Any, Any, Any]:
    """Mean hours per stage, shares of the excess hours, bottleneck (`stages.where_the_hours_go`),
    the yards' rows summed in the order `compute_kpis` sums them."""
    hours = np.asarray([part["hours"] for part in parts], dtype=np.float64).sum(axis=0)
    departed = np.asarray([part["departed"] for part in parts], dtype=np.float64).sum(axis=0)
    gone = np.asarray([part["excess_departed"] for part in parts], dtype=np.float64).sum(axis=0)
    there = np.asarray([part["excess_in_yard"] for part in parts], dtype=np.float64).sum(axis=0)
    excess = (gone + there)[None, :]
    shares = _ratio(excess, excess.sum(axis=1, keepdims=True))[0]
    export = len(parts[0]["hours"]) - 2  # the import stages are the last two
    means = np.hstack(
        [_ratio(hours[:export], departed[0:1]), _ratio(hours[export:], departed[1:2])]
    )
    return _stage_figures(means), _stage_figures(shares), _bottleneck(shares)

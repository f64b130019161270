"""The live KPI snapshot computed the plain way: the oracle the live path is held to.

`kpi_outputs` (`streams.live.snapshots`) reads only the recent records, kept between
snapshots, and reuses what it made for one window in the others. This computes the same
snapshot as the live twin did before any of that: every (scope, window) of `kpis.json` figures
from `corridor.kpis.record_frames.record_frames` of the whole twin (every record it holds, as
pandas frames), each window's yard KPIs and partials from tables prepared for them alone, the
corridor merged from the yards' partials. Equal inputs give equal bytes: the tests compare
the two as JSON.
"""

from datetime import datetime
from typing import Any

from corridor.engine.clock import to_minutes
from corridor.engine.twin import Twin
from corridor.kpis.merge import merge
from corridor.kpis.partials import yard_partials
from corridor.kpis.record_frames import record_frames
from corridor.kpis.report import yard_kpis
from corridor.store_contract import KpiPartial, KpiSnapshot
from streams.live.reorder import Micros, from_micros
from streams.live.snapshots import CORRIDOR, WINDOWS, window_start


def full_outputs(
    twin: Twin, as_of: Micros, computed_at: datetime
) -> tuple[list[KpiSnapshot], list[KpiPartial]]:
    """Every (scope, window) snapshot at `as_of` and the yards' partials, from every record."""
    assert twin.epoch is not None
    end = from_micros(as_of)
    frames = record_frames(twin)
    snapshots: list[KpiSnapshot] = []
    partials: list[KpiPartial] = []
    for window, length in WINDOWS.items():
        start = window_start(twin.epoch, end, length)
        bounds = {"start": to_minutes(start, twin.epoch), "end": to_minutes(end, twin.epoch)}
        # tables of its own for each: nothing made for one window or use is read by another
        kpis = yard_kpis(frames, **bounds, stations=twin.stations)
        parts = yard_partials(frames, **bounds, stations=twin.stations)
        scopes: dict[str, Any] = {**kpis, CORRIDOR: merge([parts[y] for y in twin.stations])}
        snapshots += [KpiSnapshot(s, window, end, computed_at, k) for s, k in scopes.items()]
        partials += [KpiPartial(yard, window, end, part) for yard, part in parts.items()]
    return snapshots, partials

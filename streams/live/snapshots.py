"""KPI snapshots of the live twin: rolling windows of the `kpis.json` figures, per scope.

A snapshot is the KPIs over a window ending at an event time `as_of` (the watermark at that
moment): the last hour, the last shift (8 h), the last 24 h and the last 7 days, each clipped
at the twin's epoch (a twin that has run two hours has a two-hour "24h" window, so per-day rates
are not diluted by time it never saw). Windows are half-open, `[as_of - length, as_of)`, as in
`corridor.kpis.report.compute_kpis`. The values depend only on the twin at `as_of`, so a rebuilt
twin recomputes the same snapshot for the same key (scope, window, as_of).

The corridor's figures are not `compute_kpis`' pooled ones: they are merged from the yards'
partials (`corridor.kpis.partials`, `corridor.kpis.merge`), the same way whether one worker
holds every yard or several workers each hold some (their stores merge the partials they
commit), so the corridor figure does not depend on who holds which yard. Its counts, sums,
means and shares are `compute_kpis`' own; its percentiles are within 0.5 % (`docs/kpis.md`).

Only the records the longest window can see are turned into tables
(`corridor.kpis.recent_frames`), so a snapshot costs the same on the first day and after a year,
and its figures are byte-identical to `compute_kpis` over every record since the epoch. What
depends on the moment alone (the boxes in the yard) is made once for the four windows.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from corridor.engine.clock import to_minutes
from corridor.kpis.merge import Shared, merge
from corridor.kpis.partials import yard_partials
from corridor.kpis.report import yard_kpis
from corridor.store_contract import KpiPartial, KpiSnapshot, TwinBatch
from streams.live.plain import plain
from streams.live.reorder import Micros, from_micros
from streams.live.twin import LiveTwin

CORRIDOR = "corridor"
WINDOWS: dict[str, timedelta] = {
    "1h": timedelta(hours=1),
    "shift": timedelta(hours=8),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
}


def window_start(epoch: datetime, as_of: datetime, length: timedelta) -> datetime:
    """The window's first moment, never before the epoch."""
    return max(epoch, as_of - length)


def kpi_snapshots(live: LiveTwin, as_of: Micros, computed_at: datetime) -> list[KpiSnapshot]:
    """Every (scope, window) snapshot at `as_of`; none before the twin exists."""
    return kpi_outputs(live, as_of, computed_at)[0]


def kpi_outputs(
    live: LiveTwin, as_of: Micros, computed_at: datetime
) -> tuple[list[KpiSnapshot], list[KpiPartial]]:
    """Every (scope, window) snapshot at `as_of`, the corridor's merged from the yards'
    partials, and those partials; none before the twin exists."""
    twin, recent = live.twin, live.recent_records()
    if twin is None or twin.epoch is None or recent is None:
        return [], []
    end = from_micros(as_of)
    if end <= twin.epoch:  # nothing has happened yet: every window would be empty
        return [], []
    longest = window_start(twin.epoch, end, max(WINDOWS.values()))
    # once for every window and both uses; without the corridor, which the partials give
    tables = recent.tables(to_minutes(longest, twin.epoch), list(twin.stations))
    no_frames: dict[str, Any] = {}  # the tables hold them
    snapshots: list[KpiSnapshot] = []
    partials: list[KpiPartial] = []
    shared: Shared = {}  # the corridor's boxes in the yards at `end`: alike in every window
    for window, length in WINDOWS.items():
        start = window_start(twin.epoch, end, length)
        bounds = {"start": to_minutes(start, twin.epoch), "end": to_minutes(end, twin.epoch)}
        kpis = yard_kpis(no_frames, **bounds, stations=twin.stations, tables=tables)
        parts = yard_partials(no_frames, **bounds, stations=twin.stations, tables=tables)
        scopes: dict[str, Mapping[str, Any]] = {
            **kpis,
            CORRIDOR: merge([parts[yard] for yard in twin.stations], shared),
        }
        snapshots += [
            KpiSnapshot(scope, window, end, computed_at, kpis) for scope, kpis in scopes.items()
        ]
        partials += [KpiPartial(yard, window, end, part) for yard, part in parts.items()]
    return snapshots, partials


def yard_views(live: LiveTwin) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """Each yard's live state and its complete reefer list, as plain dicts."""
    twin = live.twin
    if twin is None:
        return [], []
    states: list[Mapping[str, Any]] = [plain(twin.state(yard)) for yard in twin.yards]
    reefers: list[Mapping[str, Any]] = [
        plain(status) for yard in twin.yards for status in twin.reefers(yard)
    ]
    return states, reefers


def put_yard_views(live: LiveTwin, batch: TwinBatch, partials: Sequence[KpiPartial] = ()) -> None:
    """Give the batch every yard's state, reefers and old boxes (`Twin.boxes_now`), and
    `put_partials`."""
    put_partials(live, batch, partials)
    batch.yard_states, batch.reefers = yard_views(live)
    twin = live.twin
    if twin is not None:
        batch.boxes = [plain(box) for yard in twin.yards for box in twin.boxes_now(yard)]


def put_partials(live: LiveTwin, batch: TwinBatch, partials: Sequence[KpiPartial]) -> None:
    """Give the batch a snapshot's yard `partials` and the scenario's yards (the corridor is
    merged from)."""
    batch.partials.extend(partials)
    if live.twin is not None:
        batch.yards = list(live.twin.stations)


def snapshot_message(snapshot: KpiSnapshot) -> dict[str, Any]:
    """The `corridor.kpi` topic payload of one snapshot (times as RFC 3339)."""
    return {
        "scope": snapshot.scope,
        "window": snapshot.window,
        "as_of": snapshot.as_of.isoformat(),
        "computed_at": snapshot.computed_at.isoformat(),
        "kpis": snapshot.kpis,
    }

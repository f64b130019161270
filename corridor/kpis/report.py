"""KPIs of the yard twin: what a corridor is judged by, as pure functions of the record tables.

The model emits flat records (`stations.records`); this module turns a window of them into the
`kpis.json` figures for each yard and for the corridor as a whole: truck turnaround and gate
wait, the gate queue, container dwell against the one-day target, throughput, the use of gates,
equipment, plugs and stack, and reefer excursions. Each KPI is defined in its function's
docstring (start event, end event, unit, which records count) and in `docs/kpis.md`:
*tally* KPIs in `corridor.kpis.tallies` and `corridor.kpis.reefer`, dwell (every box, the
stages of its stay) in `corridor.kpis.dwell` and `corridor.kpis.stages`, time-weighted *level*
KPIs in `corridor.kpis.levels`. The report is deterministic: equal inputs give byte-identical JSON.
"""

import copy
import json
import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from corridor.kpis.dwell import dwell_h
from corridor.kpis.frames import Table, Window, prepare_tables
from corridor.kpis.levels import gate_queue_len, levels_over, utilisation
from corridor.kpis.reefer import reefer
from corridor.kpis.result import (
    InputInfo,
    KpiReport,
    Kpis,
    Period,
    RunInfo,
    ScenarioInfo,
    ScopedKpis,
)
from corridor.kpis.stats import figure
from corridor.kpis.tallies import gate_wait_min, throughput, truck_turn_min, trucks
from stations.spec import StationSpec
from stations.types import Minutes


def compute_kpis(
    frames: Mapping[str, pd.DataFrame],
    *,
    start: Minutes,
    end: Minutes,
    stations: Mapping[str, StationSpec],
    tables: Mapping[str, Table] | None = None,
) -> ScopedKpis:
    """The KPIs of every yard in `stations` and of the corridor over the window `[start, end)`.

    `frames` holds the record tables by `stations.records.RECORD_TYPES` name: every KPI is
    computed from them alone. Every key of `Kpis` is present whether or not anything happened
    (missing figures are None). `tables`: the frames already prepared for these stations
    (`prepare_tables`), when several windows read the same frames.
    """
    yards = list(stations)
    if tables is None:
        tables = prepare_tables(frames, yards)
    if not tables["truck_visits"].corridor:
        raise ValueError("tables: prepared without the corridor; use yard_kpis")
    scopes = _scoped_kpis(tables, Window(start, end), stations)
    return ScopedKpis(yards=dict(zip(yards, scopes[:-1], strict=True)), corridor=scopes[-1])


def yard_kpis(
    frames: Mapping[str, pd.DataFrame],
    *,
    start: Minutes,
    end: Minutes,
    stations: Mapping[str, StationSpec],
    tables: Mapping[str, Table] | None = None,
) -> dict[str, Kpis]:
    """`compute_kpis`' figures of every yard, without the corridor's: the live twin merges
    the corridor from the yards' partials (`corridor.kpis.merge`), so its tables are prepared
    without it (`prepare_tables(..., corridor=False)`, the default here) and nothing is pooled.
    Each yard's figures are the same bytes as `compute_kpis`'."""
    yards = list(stations)
    if tables is None:
        tables = prepare_tables(frames, yards, corridor=False)
    scopes = _scoped_kpis(tables, Window(start, end), stations)
    return dict(zip(yards, scopes[: len(yards)], strict=True))


def _scoped_kpis(
    tables: Mapping[str, Table], window: Window, stations: Mapping[str, StationSpec]
) -> list[Kpis]:
    """The KPIs per yard (scenario order), then the corridor's when the tables have it."""
    visits, boxes, lifts = tables["truck_visits"], tables["box_visits"], tables["lifts"]
    levels = levels_over(tables["levels"], window)
    return [
        Kpis(
            trucks=departed,
            truck_turn_min=turn,
            gate_wait_min=wait,
            gate_queue_len=queue,
            dwell_h=dwell,
            throughput=moved,
            utilisation=used,
            reefer=reefers,
        )
        for departed, turn, wait, queue, dwell, moved, used, reefers in zip(
            trucks(visits, window),
            truck_turn_min(visits, window),
            gate_wait_min(visits, window),
            gate_queue_len(levels),
            dwell_h(boxes, window),
            throughput(boxes, lifts, window),
            utilisation(levels, lifts, list(stations.values()), window),
            reefer(tables["reefer_excursions"], tables["reefer_readings"], window),
            strict=True,
        )
    ]


def kpi_report(
    frames: Mapping[str, pd.DataFrame],
    *,
    start: Minutes,
    end: Minutes,
    stations: Mapping[str, StationSpec],
    scenario: ScenarioInfo,
    seed: int,
    source: InputInfo,
    epoch: datetime,
    event_counts: Mapping[str, Any],
) -> KpiReport:
    """The whole `kpis.json`: the KPIs plus a `run` block (scenario, seed, input, period, event
    counts as given; `corridor.kpis.run_info` makes the scenario and input blocks).

    The period's start and end are RFC 3339 timestamps (`epoch` + the window's Minutes, with
    the epoch's offset); `epoch` must be timezone-aware.
    """
    if epoch.utcoffset() is None:
        raise ValueError(f"epoch: needs a timezone (an aware datetime), got {epoch.isoformat()}")
    kpis = compute_kpis(frames, start=start, end=end, stations=stations)
    period = Period(
        start=(epoch + timedelta(minutes=start)).isoformat(),
        end=(epoch + timedelta(minutes=end)).isoformat(),
        days=figure(Window(start, end).days),
    )
    run = RunInfo(
        scenario=ScenarioInfo(**scenario),
        seed=seed,
        input=InputInfo(**source),
        period=period,
        events=copy.deepcopy(dict(event_counts)),
    )
    return KpiReport(run=run, yards=kpis["yards"], corridor=kpis["corridor"])


def dumps_report(report: KpiReport | Mapping[str, Any]) -> bytes:
    """The report as deterministic JSON: sorted keys, indent 2, UTF-8, newline at the end."""
    where = _non_finite(report, "report")
    if where:
        raise ValueError(f"{where}: NaN or infinity has no JSON form (use None)")
    text = json.dumps(report, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode("utf-8")


def _non_finite(value: Any, path: str) -> str | None:
    """The path of the first NaN or infinite float in a nest of dicts and lists, if any."""
    if isinstance(value, float):
        return None if math.isfinite(value) else path
    if isinstance(value, Mapping):
        items = ((f"{path}.{key}", item) for key, item in value.items())
    elif isinstance(value, list | tuple):
        items = ((f"{path}[{index}]", item) for index, item in enumerate(value))
    else:
        return None
    for where, item in items:
        found = _non_finite(item, where)
        if found:
            return found
    return None

"""Warm-up: the first hours of a run, when the yards fill from empty, kept out of the KPIs.

A run starts with empty stacks and idle gates, so its first hours are not what a yard in steady
operation looks like. With a warm-up of H hours ending at `warmup_end` (the report's start plus
H), the KPIs describe the window `[warmup_end, end)` and a tally record counts only if it
*started* at or after `warmup_end`: a truck that arrived during the warm-up and left after it,
or a box that entered during it and left after it, is dropped, not counted with a partial wait.
Levels are time-weighted over the window, so nothing of them is dropped. `docs/kpis.md`
("Warm-up") gives the rule per table.
"""

from collections.abc import Mapping

import pandas as pd

from stations.types import Minutes

START_COLUMNS: dict[str, str] = {
    "truck_visits": "arrived",
    "box_visits": "entered",
    "lifts": "start",
    "reefer_excursions": "start",
    "reefer_readings": "time",
}
"""The record tables the KPIs count, each with the column that holds a record's start."""


def drop_warmup(frames: Mapping[str, pd.DataFrame], warmup_end: Minutes) -> dict[str, pd.DataFrame]:
    """The record tables without the tally records that started before `warmup_end`.

    Tables the KPIs do not count by record (levels, train visits, observations) are kept whole;
    a record whose start never happened (NaN) is kept, for the KPI code to refuse by name.
    """
    kept = dict(frames)
    for name, column in START_COLUMNS.items():
        frame = frames.get(name)
        if frame is not None and column in frame.columns:
            started_before = frame[column].to_numpy(dtype="float64") < warmup_end
            kept[name] = frame.loc[~started_before].reset_index(drop=True)
    return kept

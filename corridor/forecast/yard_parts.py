"""A forecast in parts, one per yard, and the whole forecast merged from them.

A consumer group's members each hold some of the yards (`docs/scaling.md`), so each forecasts
only its own: a *yard part* is one yard's figures in every replication (`YardOutcome`, in
replication order), as plain JSON values. The corridor's bands are those of the yards' sums per
replication (`corridor.forecast.bands`), so they cannot be merged from the yards' bands; they
are merged from the parts' replications instead, by the very function that summarises a
forecast computed in one process (`summarise`). A yard's outcome in replication r depends on
that yard alone (its state at now, its own random streams and its own generated traffic:
`corridor.forecast.future`), so the parts of the same start, seed, horizon and replications
merge into the forecast one process holding every yard computes, to the byte, whichever member
computed which yard (`tests/test_forecast_parts.py`). No resolution is lost: nothing is
summarised before the merge.

A part holds about 100 numbers a replication (three hourly series, the hourly box counts and the
trains due): 8 replications of 24 h are 11 to 15 kB of JSON for each of the three yards.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from corridor.forecast.bands import Forecast, summarise
from corridor.forecast.measures import HOURLY, YardOutcome

YardPart = list[dict[str, Any]]
"""One yard's outcome in every replication, in replication order, as plain values."""


@dataclass(frozen=True, slots=True)
class PartsOwner:
    """Who stores a forecast's yard parts, and for which corridor: the worker's group, its
    claim on its partitions when it took the snapshot (None: a worker of no group, unfenced)
    and every yard of the corridor (the merge waits for all of them)."""

    group: str
    claim: str | None
    corridor: tuple[str, ...]


def to_part(runs: Sequence[YardOutcome]) -> YardPart:
    """A yard's outcomes as plain JSON values (NaN, an hour without a truck, as None)."""
    plain = []
    for run in runs:
        values = asdict(run)
        values["hourly"] = {
            name: [None if math.isnan(value) else value for value in series]
            for name, series in run.hourly.items()
        }
        plain.append(values)
    return plain


def from_part(part: YardPart) -> list[YardOutcome]:
    """The outcomes of `to_part` back."""
    return [
        YardOutcome(
            {
                name: [math.nan if value is None else float(value) for value in run["hourly"][name]]
                for name in HOURLY
            },
            int(run["boxes_over_24h"]),
            {train: bool(late) for train, late in run["trains_late"].items()},
            [int(count) for count in run["boxes_over_24h_by_hour"]],
            {train: float(due) for train, due in run["trains_due"].items()},
        )
        for run in part
    ]


def split(outcomes: Sequence[Mapping[str, YardOutcome]]) -> dict[str, YardPart]:
    """Every replication's outcomes per yard (`run_replications`) as one part per yard."""
    yards = sorted(outcomes[0]) if outcomes else []
    return {sid: to_part([run[sid] for run in outcomes]) for sid in yards}


def merge_parts(now: datetime, hours: int, parts: Mapping[str, YardPart]) -> Forecast:
    """The forecast from `now` for `hours` of every yard in `parts` and of their corridor.

    Refuses parts of different replication counts (they are of different forecasts)."""
    if not parts:
        raise ValueError("parts: the corridor needs at least one yard's part")
    counts = {sid: len(part) for sid, part in parts.items()}
    if len(set(counts.values())) != 1:
        raise ValueError(f"parts: of different replication counts {counts}")
    runs = {sid: from_part(part) for sid, part in parts.items()}
    replications = next(iter(counts.values()))
    outcomes = [{sid: runs[sid][r] for sid in sorted(runs)} for r in range(replications)]
    return summarise(now, hours, outcomes)

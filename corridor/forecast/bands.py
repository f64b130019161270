"""A forecast as bands: per yard and hour, the p10, p50 and p90 of the replications' figures.

Percentiles use the Weibull plotting position (the k-th of n values sits at k / (n + 1)), so the
p10-p90 band of n replications is, when the model is right, a prediction interval that holds
the next outcome about 80 % of the time; the default linear interpolation would make the band
of 8 replications hold it only about 60 % of the time. NaN values (an hour without a truck)
are left out; an hour where every replication has none gives None.

The corridor's bands are those of the yards' sums per replication (queues, plugs, boxes); its
turnaround is the mean of the yards' hourly means. A train is at risk when it left late, or not
by the end of the horizon, in at least one replication; `late_share` says in how many.

A forecast also carries what its first h hours need to stand alone as a forecast of h hours:
the boxes over 24 h at the end of every hour and each train's scheduled departure. The worker
computes the longest horizon once and the API serves any shorter one (`api.forecasts`).
"""

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from corridor.forecast.measures import HOURLY, YardOutcome

CORRIDOR = "corridor"


@dataclass(frozen=True, slots=True)
class Band:
    """Low, middle and high percentile of the replications (None: no replication had one)."""

    p10: float | None
    p50: float | None
    p90: float | None

    def holds(self, value: float) -> bool | None:
        """Whether `value` lies in [p10, p90] (None when either is unknown)."""
        if self.p10 is None or self.p90 is None or math.isnan(value):
            return None
        return self.p10 - 1e-9 <= value <= self.p90 + 1e-9


@dataclass(frozen=True, slots=True)
class HourBands:
    """One hour of a yard's forecast."""

    start: datetime
    gate_queue: Band
    turnaround_min: Band
    plugs_in_use: Band


@dataclass(frozen=True, slots=True)
class TrainRisk:
    """A train due in the horizon and the share of replications in which it left late."""

    train_id: str
    late_share: float
    departure: datetime | None = None  # scheduled


@dataclass(frozen=True, slots=True)
class YardForecast:
    """One yard's (or the corridor's) forecast."""

    hours: list[HourBands]
    boxes_over_24h: Band
    trains_at_risk: list[TrainRisk]
    boxes_over_24h_by_hour: list[Band] = field(default_factory=list)  # at each hour's end


@dataclass(frozen=True, slots=True)
class Forecast:
    """The forecast from `now` for `horizon_h` hours, over `replications` replications."""

    now: datetime
    horizon_h: int
    replications: int
    yards: dict[str, YardForecast]
    corridor: YardForecast

    def as_dict(self) -> dict[str, Any]:
        """Plain values for JSON (times as ISO 8601 strings)."""
        plain: dict[str, Any] = _isoformat(asdict(self))
        return plain


def band(values: Sequence[float]) -> Band:
    """The band of the replications' values (NaN left out)."""
    known = np.array([value for value in values if not math.isnan(value)], dtype=np.float64)
    if not len(known):
        return Band(None, None, None)
    low, mid, high = np.percentile(known, [10, 50, 90], method="weibull")
    return Band(round(float(low), 3), round(float(mid), 3), round(float(high), 3))


def summarise(now: datetime, hours: int, outcomes: Sequence[dict[str, YardOutcome]]) -> Forecast:
    """The bands of the replications' outcomes, per yard and for the corridor."""
    yards = sorted(outcomes[0])
    per_yard = {sid: _yard_bands(now, hours, [run[sid] for run in outcomes]) for sid in yards}
    corridor = _yard_bands(now, hours, [_corridor_outcome(run) for run in outcomes])
    return Forecast(now, hours, len(outcomes), per_yard, corridor)


def _yard_bands(now: datetime, hours: int, runs: Sequence[YardOutcome]) -> YardForecast:
    bands = {
        name: [band([run.hourly[name][h] for run in runs]) for h in range(hours)] for name in HOURLY
    }
    hourly = [
        HourBands(now + timedelta(hours=h), *(bands[name][h] for name in HOURLY))
        for h in range(hours)
    ]
    late: dict[str, int] = {}
    due: dict[str, float] = {}
    for run in runs:
        due.update(run.trains_due)
        for train, was_late in run.trains_late.items():
            late[train] = late.get(train, 0) + int(was_late)
    risks = [
        TrainRisk(train, round(count / len(runs), 3), _departure(now, due.get(train)))
        for train, count in sorted(late.items(), key=lambda item: (-item[1], item[0]))
        if count
    ]
    by_hour = [
        band([float(run.boxes_over_24h_by_hour[h]) for run in runs])
        for h in range(min((len(run.boxes_over_24h_by_hour) for run in runs), default=0))
    ]
    return YardForecast(hourly, band([float(run.boxes_over_24h) for run in runs]), risks, by_hour)


def _departure(now: datetime, minutes: float | None) -> datetime | None:
    """A train's scheduled departure (recorded by the replications in minutes after now)."""
    return None if minutes is None else now + timedelta(minutes=minutes)


def _corridor_outcome(run: dict[str, YardOutcome]) -> YardOutcome:
    yards = list(run.values())
    hours = len(yards[0].hourly["gate_queue"])
    summed = {
        name: [sum(yard.hourly[name][h] for yard in yards) for h in range(hours)]
        for name in ("gate_queue", "plugs_in_use")
    }
    turnaround = [
        _nanmean([yard.hourly["turnaround_min"][h] for yard in yards]) for h in range(hours)
    ]
    late = {
        f"{sid}/{train}": was_late
        for sid, yard in run.items()
        for train, was_late in yard.trains_late.items()
    }
    due = {
        f"{sid}/{train}": due for sid, yard in run.items() for train, due in yard.trains_due.items()
    }
    by_hour = [
        sum(counts) for counts in zip(*(y.boxes_over_24h_by_hour for y in yards), strict=True)
    ]
    return YardOutcome(
        {**summed, "turnaround_min": turnaround},
        sum(yard.boxes_over_24h for yard in yards),
        late,
        by_hour,
        due,
    )


def _nanmean(values: list[float]) -> float:
    known = [value for value in values if not math.isnan(value)]
    return sum(known) / len(known) if known else math.nan


def _isoformat(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _isoformat(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_isoformat(item) for item in value]
    return value

"""A forecast from the live twin's own state: the worker's yards at its watermark, as data.

The worker (`streams.forecast_schedule`) takes its twin's snapshot (`Twin.snapshot`, encoded by
`corridor.engine.snapshots`) at the watermark and hands the bytes to a process of its own,
which runs `run_live_forecast`: no archive is read and no history replayed; each replication
restores the saved yards with its own random streams (`SnapshotStart`, `Twin.fork`).

The import boxes a truck is already coming for (`claimed_pickups`, so that generated pickups
do not collect them twice) are read from the snapshot itself: the import trucks in their visit,
including those still on their way to the gate (stage "eta").

A consumer group's member forecasts only the yards it owns (`yards`): the snapshot is cut to
them and each replication runs those yards alone, and the result is one part per yard, every
replication's figures (`run_live_parts`, `corridor.forecast.yard_parts`), which the store merges
with the other members' parts into the corridor's forecast.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec

from corridor.engine.snapshots import TwinSnapshot, decode
from corridor.forecast.run import (
    DEFAULT_REPLICATIONS,
    MAX_HOURS,
    ForecastJob,
    check_hours,
    forecast,
    run_replications,
)
from corridor.forecast.start_state import SnapshotStart
from corridor.forecast.yard_parts import split
from stations.spec import StationSpec

_CONTAINER, _DIRECTION = 1, 4  # places in `stations.snapshot_format.TruckState.order`


@dataclass(frozen=True, slots=True)
class LiveForecastJob:
    """One forecast from a live snapshot (picklable: it crosses to the forecast process)."""

    snapshot: bytes  # `corridor.engine.snapshots.encode` of the live twin at `now`
    stations: Mapping[str, StationSpec]
    now: datetime  # the watermark the snapshot was taken at (aware)
    hours: int = MAX_HOURS
    replications: int = DEFAULT_REPLICATIONS
    workers: int = 1
    yards: frozenset[str] | None = None  # the yards to forecast (None: every yard)


def claimed_pickups(snapshot: TwinSnapshot) -> frozenset[str]:
    """Import boxes that a truck in the snapshot (arrived or still on its way) will collect."""
    return frozenset(
        str(truck.order[_CONTAINER])
        for yard in snapshot.yards.values()
        for truck in yard.trucks
        if truck.order[_DIRECTION] == "import"
    )


def live_start(
    snapshot: TwinSnapshot, stations: Mapping[str, StationSpec], now: datetime
) -> SnapshotStart:
    """The start state of a forecast from the live twin's snapshot taken at `now`."""
    if now.tzinfo is None:
        raise ValueError(f"now: expected an aware datetime, got {now.isoformat()}")
    return SnapshotStart(snapshot, stations, now, claimed_pickups(snapshot))


def run_live_forecast(job: LiveForecastJob) -> dict[str, Any]:
    """Decode the snapshot and forecast from it; plain values with `computed_at` (wall clock)."""
    check_hours(job.hours)
    snapshot = decode(job.snapshot)
    result = forecast(
        live_start(snapshot, job.stations, job.now),
        seed=snapshot.seed,
        hours=job.hours,
        replications=job.replications,
        workers=job.workers,
    )
    return {**result.as_dict(), "computed_at": datetime.now(UTC).isoformat()}


def cut_to(
    snapshot: TwinSnapshot, stations: Mapping[str, StationSpec], yards: frozenset[str]
) -> tuple[TwinSnapshot, dict[str, StationSpec]]:
    """The snapshot and the stations of `yards` only (a member's share of the twin)."""
    missing = sorted(yards - set(snapshot.yards))
    if missing:
        raise ValueError(f"yards: not in the snapshot: {', '.join(missing)}")
    kept = msgspec.structs.replace(
        snapshot, yards={sid: state for sid, state in snapshot.yards.items() if sid in yards}
    )
    return kept, {sid: spec for sid, spec in stations.items() if sid in yards}


def run_live_parts(job: LiveForecastJob) -> dict[str, Any]:
    """The forecast of the job's yards as parts (`corridor.forecast.yard_parts`): `now`,
    `horizon_h`, `replications`, `computed_at` (wall clock) and `parts`, one per yard."""
    check_hours(job.hours)
    snapshot, stations = decode(job.snapshot), dict(job.stations)
    if job.yards is not None:
        snapshot, stations = cut_to(snapshot, stations, job.yards)
    start = live_start(snapshot, stations, job.now)
    outcomes = run_replications(
        ForecastJob(start, snapshot.seed, job.hours), job.replications, job.workers
    )
    return {
        "now": job.now.isoformat(),
        "horizon_h": job.hours,
        "replications": job.replications,
        "computed_at": datetime.now(UTC).isoformat(),
        "parts": split(outcomes),
    }

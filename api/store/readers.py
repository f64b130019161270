"""What the API reads from the store: the worker's latest outputs, history and health.

Plain Core selects on the tables the worker fills (no ORM identity map: every read is a fresh
look at what was committed). Each function takes the engine and keyword arguments, so routes
stay thin and the functions are easy to call from a thread pool.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, case, func, select

from api.store import tables as m
from api.store.tables import table_of
from stations.records import RECORD_TYPES

SNAPSHOTS = table_of(m.KpiSnapshot)
STATES = table_of(m.YardState)
REEFERS = table_of(m.ReeferStatus)
COUNTS = table_of(m.DeadLetterCount)
WORKERS = table_of(m.WorkerCommit)
FLAGS = table_of(m.InputFlagCount)
BOXES = table_of(m.OverdueBox)

REEFER_FILTERS = {
    "alarm": REEFERS.c.alarm_count > 0,
    "excursion": REEFERS.c.in_excursion.is_(True),
    "unplugged": REEFERS.c.plugged.is_(False),
}


def ping(engine: Engine) -> None:
    """Raise unless the database answers."""
    with engine.connect() as connection:
        connection.execute(select(1)).scalar_one()


def latest_snapshot(engine: Engine, *, scope: str, window: str) -> m.KpiSnapshot | None:
    """The snapshot of `scope` over `window` with the latest event time, if any."""
    query = (
        select(SNAPSHOTS)
        .where(SNAPSHOTS.c.scope == scope, SNAPSHOTS.c.window == window)
        .order_by(SNAPSHOTS.c.as_of.desc())
        .limit(1)
    )
    with engine.connect() as connection:
        row = connection.execute(query).mappings().first()
    return None if row is None else m.KpiSnapshot(**row)


def snapshots_between(
    engine: Engine,
    *,
    scope: str,
    window: str,
    start: datetime,
    end: datetime,
    limit: int | None = None,
) -> list[m.KpiSnapshot]:
    """Snapshots of `scope`/`window` with `start <= as_of <= end`, oldest first (at most
    `limit`)."""
    query = (
        select(SNAPSHOTS)
        .where(SNAPSHOTS.c.scope == scope, SNAPSHOTS.c.window == window)
        .where(SNAPSHOTS.c.as_of >= start, SNAPSHOTS.c.as_of <= end)
        .order_by(SNAPSHOTS.c.as_of)
        .limit(limit)
    )
    with engine.connect() as connection:
        return [m.KpiSnapshot(**row) for row in connection.execute(query).mappings()]


def snapshots_after(
    engine: Engine, *, cursor: int, scopes: Sequence[str], windows: Sequence[str], limit: int = 500
) -> list[m.KpiSnapshot]:
    """Snapshots stored after `cursor` (their `id`), in storage order: the stream's feed."""
    query = (
        select(SNAPSHOTS)
        .where(SNAPSHOTS.c.id > cursor)
        .where(SNAPSHOTS.c.scope.in_(list(scopes)), SNAPSHOTS.c.window.in_(list(windows)))
        .order_by(SNAPSHOTS.c.id)
        .limit(limit)
    )
    with engine.connect() as connection:
        return [m.KpiSnapshot(**row) for row in connection.execute(query).mappings()]


def last_snapshot_id(engine: Engine) -> int:
    """The newest snapshot's id (0 when there is none): where a new stream starts."""
    with engine.connect() as connection:
        return int(connection.execute(select(func.max(SNAPSHOTS.c.id))).scalar_one() or 0)


def newest_snapshot_times(engine: Engine) -> tuple[datetime, datetime] | None:
    """Event time and wall time (`as_of`, `computed_at`) of the newest corridor snapshot.

    Every snapshot moment writes every scope and window, so the corridor's shortest window
    (one lookup on the unique index) stands for them all.
    """
    query = (
        select(SNAPSHOTS.c.as_of, SNAPSHOTS.c.computed_at)
        .where(SNAPSHOTS.c.scope == "corridor", SNAPSHOTS.c.window == "1h")
        .order_by(SNAPSHOTS.c.as_of.desc())
        .limit(1)
    )
    with engine.connect() as connection:
        row = connection.execute(query).first()
    return None if row is None else (row.as_of, row.computed_at)


def yard_state(engine: Engine, *, yard: str) -> dict[str, Any] | None:
    """The yard's latest committed state (as the worker wrote it), if any."""
    with engine.connect() as connection:
        row = connection.execute(select(STATES.c.state).where(STATES.c.yard == yard)).first()
    return None if row is None else dict(row[0])


def reefers(
    engine: Engine, *, yard: str, status: str | None, order: str = "container"
) -> list[m.ReeferStatusPublic]:
    """The reefers in a yard, optionally only those in alarm, in excursion or unplugged; by
    container number, or most urgent first (`order="urgency"`: least time to breach first,
    those that never breach last)."""
    query = select(REEFERS).where(REEFERS.c.yard == yard)
    if order == "urgency":
        breach = REEFERS.c.minutes_to_breach
        query = query.order_by(breach.is_(None), breach, REEFERS.c.container_id)
    else:
        query = query.order_by(REEFERS.c.container_id)
    if status is not None:
        query = query.where(REEFER_FILTERS[status])
    with engine.connect() as connection:
        rows = connection.execute(query).mappings().all()
    return [m.ReeferStatusPublic(**row) for row in rows]


def open_alarm_counts(engine: Engine) -> dict[str, int]:
    """Reefers per yard with an alarm or in excursion (the dashboard's red badge)."""
    trouble = REEFER_FILTERS["alarm"] | REEFER_FILTERS["excursion"]
    query = select(REEFERS.c.yard, func.count()).where(trouble).group_by(REEFERS.c.yard)
    with engine.connect() as connection:
        return {yard: int(count) for yard, count in connection.execute(query)}


def reefer_breach_summary(engine: Engine, *, within_min: float) -> dict[str, tuple[float, int]]:
    """Per yard with a reefer heading out of its band: the least time to breach (minutes) and
    how many reefers breach within `within_min` (the already breached among them)."""
    breach = REEFERS.c.minutes_to_breach
    soon = func.sum(case((breach <= within_min, 1), else_=0))
    query = (
        select(REEFERS.c.yard, func.min(breach), soon)
        .where(breach.is_not(None))
        .group_by(REEFERS.c.yard)
    )
    with engine.connect() as connection:
        return {
            yard: (float(least), int(count)) for yard, least, count in connection.execute(query)
        }


def records_in(engine: Engine, *, yard: str, start: float, end: float) -> dict[str, pd.DataFrame]:
    """The yard's stored truck, box and train visits that may touch `[start, end)` (Minutes
    since the twin's epoch), as frames with the record's columns (NULL as NaN)."""
    trucks, boxes, trains = table_of(m.TruckVisit), table_of(m.BoxVisit), table_of(m.TrainVisit)
    queries = {
        "truck_visits": select(trucks).where(
            trucks.c.yard == yard,
            trucks.c.arrived < end,
            (trucks.c.departed >= start) | trucks.c.departed.is_(None),
        ),
        "box_visits": select(boxes).where(
            boxes.c.yard == yard,
            boxes.c.entered < end,
            (boxes.c.left >= start) | boxes.c.left.is_(None),
        ),
        "train_visits": select(trains).where(
            trains.c.yard == yard,
            trains.c.scheduled < end,
            (trains.c.work_end >= start) | trains.c.work_end.is_(None),
        ),
    }
    frames = {}
    with engine.connect() as connection:
        for name, query in queries.items():
            rows = connection.execute(query).mappings().all()
            columns = [column.name for column in query.selected_columns]
            frame = pd.DataFrame([dict(row) for row in rows], columns=columns)
            for column, kind in RECORD_TYPES[name].__annotations__.items():
                if kind in (float, bool, int) and column in frame:
                    frame[column] = frame[column].astype(np.float64 if kind is float else kind)
            frames[name] = frame
    return frames


def dead_letter_counts(engine: Engine) -> list[m.DeadLetterCountPublic]:
    """Dead-lettered messages by reason, most frequent first."""
    query = select(COUNTS).order_by(COUNTS.c.count.desc(), COUNTS.c.reason)
    with engine.connect() as connection:
        return [m.DeadLetterCountPublic(**row) for row in connection.execute(query).mappings()]


def input_flag_counts(engine: Engine) -> dict[str, int]:
    """Valid inputs applied but flagged (`streams.input_checks`), by kind."""
    with engine.connect() as connection:
        rows = connection.execute(select(FLAGS.c.kind, FLAGS.c.count).order_by(FLAGS.c.kind))
        return {kind: int(count) for kind, count in rows}


def workers(engine: Engine) -> list[m.WorkerCommit]:
    """Every consumer group that has committed, with its last commit."""
    with engine.connect() as connection:
        rows = connection.execute(select(WORKERS).order_by(WORKERS.c.group)).mappings().all()
    return [m.WorkerCommit(**row) for row in rows]


def overdue_boxes(
    engine: Engine, *, yard: str | None, min_age_h: float, limit: int
) -> list[m.OverdueBoxPublic]:
    """The boxes at least `min_age_h` old in `yard` (None: every yard), oldest first."""
    query = (
        select(BOXES)
        .where(BOXES.c.age_h >= min_age_h)
        .order_by(BOXES.c.age_h.desc(), BOXES.c.yard, BOXES.c.container_id)
        .limit(limit)
    )
    if yard is not None:
        query = query.where(BOXES.c.yard == yard)
    with engine.connect() as connection:
        return [m.OverdueBoxPublic(**row) for row in connection.execute(query).mappings()]


def overdue_counts(
    engine: Engine, *, yard: str | None, min_age_h: float
) -> dict[str, dict[str, int]]:
    """How many boxes at least `min_age_h` old each yard has, by stage (yard -> stage -> n)."""
    query = (
        select(BOXES.c.yard, BOXES.c.stage, func.count())
        .where(BOXES.c.age_h >= min_age_h)
        .group_by(BOXES.c.yard, BOXES.c.stage)
    )
    if yard is not None:
        query = query.where(BOXES.c.yard == yard)
    counts: dict[str, dict[str, int]] = {}
    with engine.connect() as connection:
        for where, stage, count in connection.execute(query):
            counts.setdefault(where, {})[stage] = int(count)
    return counts

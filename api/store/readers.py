"""What the API reads from the store: the worker's latest outputs, history and health.

Plain Core selects on the tables the worker fills (no ORM identity map: every read is a fresh
look at what was committed). Each function takes the engine and keyword arguments, so routes
stay thin and the functions are easy to call from a thread pool.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from api.store import tables as m
from api.store.tables import table_of

SNAPSHOTS = table_of(m.KpiSnapshot)
STATES = table_of(m.YardState)
REEFERS = table_of(m.ReeferStatus)
COUNTS = table_of(m.DeadLetterCount)
WORKERS = table_of(m.WorkerCommit)

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


def yard_state(engine: Engine, *, yard: str) -> dict[str, Any] | None:
    """The yard's latest committed state (as the worker wrote it), if any."""
    with engine.connect() as connection:
        row = connection.execute(select(STATES.c.state).where(STATES.c.yard == yard)).first()
    return None if row is None else dict(row[0])


def reefers(engine: Engine, *, yard: str, status: str | None) -> list[m.ReeferStatusPublic]:
    """The reefers in a yard, optionally only those in alarm, in excursion or unplugged."""
    query = select(REEFERS).where(REEFERS.c.yard == yard).order_by(REEFERS.c.container_id)
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


def dead_letter_counts(engine: Engine) -> list[m.DeadLetterCountPublic]:
    """Dead-lettered messages by reason, most frequent first."""
    query = select(COUNTS).order_by(COUNTS.c.count.desc(), COUNTS.c.reason)
    with engine.connect() as connection:
        return [m.DeadLetterCountPublic(**row) for row in connection.execute(query).mappings()]


def workers(engine: Engine) -> list[m.WorkerCommit]:
    """Every consumer group that has committed, with its last commit."""
    with engine.connect() as connection:
        rows = connection.execute(select(WORKERS).order_by(WORKERS.c.group)).mappings().all()
    return [m.WorkerCommit(**row) for row in rows]

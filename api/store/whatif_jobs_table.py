"""What-if jobs in the store (`whatif_jobs`): they outlive the API process that ran them.

A job is a row: queued by the API process that accepted it (its `owner`), moved to running and
then done (with the answer and the report page) by that process's forecast worker, or failed
with the reason. The owner holds the job by a lease (`api.store.job_leases`): it renews
`heartbeat_at` every quarter lease while the job is queued or running; any API process fails
the pending jobs whose heartbeat is older than the lease (their owner died: a crash, a restart,
a lost machine), so a job is never left running for ever and a replica never fails another's
live job. Only the newest `KEPT` finished jobs are kept.
"""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Engine, Table, Text, delete, func, literal, select
from sqlmodel import Field, SQLModel

from api.store.db import UtcDateTime
from api.store.db import utc_now as utc_now  # the what-if modules take the clock from here
from api.store.job_leases import PENDING

KEPT = 200
"""Finished jobs kept (the newest): a report page is up to a few hundred kB."""


class WhatIfJobRow(SQLModel, table=True):
    """One what-if: what was asked, from which moment, and once finished the answer or why not."""

    __tablename__ = "whatif_jobs"

    id: str = Field(primary_key=True, max_length=36)
    status: str = Field(max_length=8, index=True)  # queued | running | done | failed
    name: str = Field(max_length=80)
    now: datetime = Field(sa_type=UtcDateTime)  # the event time both sides start from
    hours: int
    replications: int
    scenario: dict[str, Any] = Field(sa_type=JSON)  # the scenario table, holds apart
    holds: list[dict[str, Any]] = Field(sa_type=JSON)  # resolved: yard, train_id, minutes
    created_at: datetime = Field(sa_type=UtcDateTime, index=True)
    started_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    error: str | None = Field(default=None, max_length=2000)
    result: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    report_html: str | None = Field(default=None, sa_type=Text)
    owner: str = Field(max_length=128)
    heartbeat_at: datetime = Field(sa_type=UtcDateTime)


def table() -> Table:
    """The `whatif_jobs` table."""
    found = WhatIfJobRow.__table__  # type: ignore[attr-defined]
    assert isinstance(found, Table)
    return found


def insert(engine: Engine, row: WhatIfJobRow) -> None:
    """Store a new job, and forget the oldest finished ones beyond `KEPT`."""
    jobs = table()
    finished = jobs.c.status.not_in(PENDING)
    kept = select(jobs.c.id).where(finished).order_by(jobs.c.created_at.desc()).limit(KEPT)
    with engine.begin() as connection:
        connection.execute(jobs.insert().values(**row.model_dump()))
        connection.execute(delete(jobs).where(finished, jobs.c.id.not_in(kept.scalar_subquery())))


JOB_LIMIT_LOCK = 0x77686174_6966  # "whatif": PostgreSQL's advisory lock key for the limit


def insert_within(engine: Engine, row: WhatIfJobRow, *, limit: int, lease_s: float) -> int | None:
    """Store a new job unless `limit` jobs are pending (`active`) already, counted and inserted
    atomically across every API process; None when stored, else the jobs pending.

    One `INSERT ... SELECT ... WHERE (count) < limit` statement: atomic on SQLite, which runs
    one writer at a time; on PostgreSQL concurrent transactions would each count the others'
    rows as absent, so the statement runs under a transaction-scoped advisory lock.
    """
    jobs = table()
    alive = utc_now() - timedelta(seconds=lease_s)
    pending = (
        select(func.count())
        .where(jobs.c.status.in_(PENDING), jobs.c.heartbeat_at >= alive)
        .scalar_subquery()
    )
    values = row.model_dump()
    given = select(*(literal(values[c.name], c.type) for c in jobs.c)).where(pending < limit)
    finished = jobs.c.status.not_in(PENDING)
    kept = select(jobs.c.id).where(finished).order_by(jobs.c.created_at.desc()).limit(KEPT)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(select(func.pg_advisory_xact_lock(JOB_LIMIT_LOCK)))
        insert = jobs.insert().from_select(list(jobs.c), given).returning(jobs.c.id)
        if connection.execute(insert).first() is None:  # (rowcount is -1 for this on psycopg)
            return int(connection.execute(select(pending)).scalar_one())
        connection.execute(delete(jobs).where(finished, jobs.c.id.not_in(kept.scalar_subquery())))
    return None


def get(engine: Engine, job_id: str, *, with_report: bool = False) -> WhatIfJobRow | None:
    """A job by id; its report page only when asked (it is the largest column)."""
    jobs = table()
    columns = [c for c in jobs.c if with_report or c.name != "report_html"]
    with engine.connect() as connection:
        row = connection.execute(select(*columns).where(jobs.c.id == job_id)).mappings().first()
    return None if row is None else WhatIfJobRow(**row)

"""Who runs a replay job: the API process that queued it, for as long as it renews its lease.

Several API processes may share one database (docs/api.md recommends it for scale). Each
process has an owner id (host, pid and a random part); it stamps the jobs it queues with it
and renews their `heartbeat_at` every quarter lease while they are queued or running there.
Any process fails the queued or running jobs whose heartbeat is older than the lease (or
missing: rows from before leases) — their owner has died — and touches no other job. Every
write a runner makes to its own jobs names its owner id and the status it expects, so a job
another process has failed stays failed and a job ends in exactly one final state.
"""

import os
import socket
import uuid
from collections.abc import Collection
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, or_, update

from api.store import tables as m
from api.store.sql_store import utc_now
from api.store.tables import table_of

JOBS = table_of(m.ReplayJob)
PENDING = ("queued", "running")


def new_owner_id() -> str:
    """This process's owner id: readable (host, pid) and unique (a random part)."""
    return f"{socket.gethostname()[:64]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def renew(engine: Engine, owner: str, job_ids: Collection[str]) -> int:
    """Renew the lease of these jobs of `owner` still pending; returns how many."""
    if not job_ids:
        return 0
    query = (
        update(JOBS)
        .where(JOBS.c.id.in_(list(job_ids)), JOBS.c.owner == owner)
        .where(JOBS.c.status.in_(PENDING))
        .values(heartbeat_at=utc_now())
    )
    with engine.begin() as connection:
        return connection.execute(query).rowcount


def fail_expired(engine: Engine, lease_s: float) -> int:
    """Fail pending jobs whose owner stopped renewing their lease; returns how many."""
    expired = utc_now() - timedelta(seconds=lease_s)
    query = (
        update(JOBS)
        .where(JOBS.c.status.in_(PENDING))
        .where(or_(JOBS.c.heartbeat_at.is_(None), JOBS.c.heartbeat_at < expired))
        .values(
            status="failed",
            finished_at=utc_now(),
            error=f"the API process running it stopped (no heartbeat for {lease_s:g} s)",
        )
    )
    with engine.begin() as connection:
        return connection.execute(query).rowcount


def fail_own_queued(engine: Engine, owner: str, reason: str) -> int:
    """Fail the jobs still queued in this process (it is stopping); returns how many."""
    query = (
        update(JOBS)
        .where(JOBS.c.owner == owner, JOBS.c.status == "queued")
        .values(status="failed", finished_at=utc_now(), error=reason)
    )
    with engine.begin() as connection:
        return connection.execute(query).rowcount


def move(engine: Engine, owner: str, job_id: str, expected: str, **values: Any) -> bool:
    """Change a job of `owner` that is in status `expected`; False when it is not (any more)."""
    query = (
        update(JOBS)
        .where(JOBS.c.id == job_id, JOBS.c.owner == owner, JOBS.c.status == expected)
        .values(**values)
    )
    with engine.begin() as connection:
        return connection.execute(query).rowcount == 1

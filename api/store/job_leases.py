"""Job leases: a job belongs to the API process that queued it, for as long as it renews it.

Several API processes may share one database (docs/api.md recommends it for scale), and both
replay jobs (`replay_jobs`) and what-if jobs (`whatif_jobs`) are rows there, queued -> running
-> done | failed. Each process has an owner id (host, pid and a random part); it stamps the jobs
it queues with it and, through a `LeaseHeartbeat`, renews their `heartbeat_at` every quarter
lease while they are queued or running there. Any process fails the pending jobs whose
heartbeat is older than the lease (or missing: replay rows from before leases) — their owner
has died — and touches no other job. Every move of a job names the status it expects (and, for
a runner's own writes, its owner), so a job another process has failed stays failed and a job
ends in exactly one final state.

Written here rather than taken from a library: the lease is four conditional UPDATEs on the
job tables the API already has, atomic on SQLite and PostgreSQL alike; a lock or queue service
would be a second store to run.
"""

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, Engine, Table, Update, or_, update
from sqlalchemy.exc import SQLAlchemyError

from api.store.db import utc_now

log = logging.getLogger(__name__)
PENDING = ("queued", "running")


def new_owner_id() -> str:
    """This process's owner id: readable (host, pid) and unique (a random part)."""
    return f"{socket.gethostname()[:64]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True, slots=True)
class JobLeases:
    """The leases of the jobs in one table (columns `id`, `status`, `owner`, `heartbeat_at`,
    `finished_at`, `error`); `expired_reason` is the error of a job whose owner died, formatted
    with `lease_s`."""

    table: Table
    expired_reason: str

    def renew(self, engine: Engine, owner: str, job_ids: Collection[str]) -> int:
        """Renew the lease of these jobs of `owner` still pending; returns how many."""
        if not job_ids:
            return 0
        jobs = self.table
        query = (
            update(jobs)
            .where(jobs.c.id.in_(list(job_ids)), jobs.c.owner == owner)
            .where(jobs.c.status.in_(PENDING))
            .values(heartbeat_at=utc_now())
        )
        return _rows_changed(engine, query)

    def fail_expired(self, engine: Engine, lease_s: float) -> int:
        """Fail pending jobs whose owner stopped renewing their lease; returns how many."""
        jobs = self.table
        expired = utc_now() - timedelta(seconds=lease_s)
        query = (
            update(jobs)
            .where(jobs.c.status.in_(PENDING))
            .where(or_(jobs.c.heartbeat_at.is_(None), jobs.c.heartbeat_at < expired))
            .values(_failed(self.expired_reason.format(lease_s=lease_s)))
        )
        return _rows_changed(engine, query)

    def fail_own(
        self,
        engine: Engine,
        owner: str,
        reason: str,
        *,
        statuses: Collection[str] = PENDING,
        job_ids: Collection[str] | None = None,
    ) -> int:
        """Fail the jobs of `owner` in `statuses` (only `job_ids` when given): it is stopping
        without finishing them. Returns how many."""
        jobs = self.table
        query = update(jobs).where(jobs.c.owner == owner, jobs.c.status.in_(list(statuses)))
        if job_ids is not None:
            if not job_ids:
                return 0
            query = query.where(jobs.c.id.in_(list(job_ids)))
        return _rows_changed(engine, query.values(_failed(reason)))

    def move(
        self,
        engine: Engine,
        job_id: str,
        expected: Collection[str],
        *,
        owned_by: str | None = None,
        **values: Any,
    ) -> bool:
        """Change a job that is in one of the `expected` statuses (and of `owned_by`, when
        given); False when it is not (any more)."""
        jobs = self.table
        where: list[ColumnElement[bool]] = [
            jobs.c.id == job_id,
            jobs.c.status.in_(list(expected)),
        ]
        if owned_by is not None:
            where.append(jobs.c.owner == owned_by)
        return _rows_changed(engine, update(jobs).where(*where).values(**values)) == 1


def _failed(reason: str) -> dict[str, Any]:
    """The values of a job failed now for `reason`."""
    return {"status": "failed", "finished_at": utc_now(), "error": reason}


def _rows_changed(engine: Engine, query: Update) -> int:
    """Run one UPDATE in a transaction of its own; how many rows it changed."""
    with engine.begin() as connection:
        return connection.execute(query).rowcount


class LeaseHeartbeat:
    """A thread that renews one owner's leases every quarter lease and fails the jobs of owners
    that stopped renewing theirs; `pending` lists the owner's jobs to renew, `kind` names them
    in the log ("replay", "what-if")."""

    def __init__(
        self,
        leases: JobLeases,
        engine: Engine,
        owner: str,
        lease_s: float,
        pending: Callable[[], Collection[str]],
        kind: str,
    ) -> None:
        self.leases = leases
        self.engine = engine
        self.owner = owner
        self.lease_s = lease_s
        self.pending = pending
        self.kind = kind
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Tend the leases once now (the jobs of dead owners fail), then every quarter lease."""
        self.tend()
        self._stopping.clear()
        name = f"{self.kind}-lease"
        self._thread = threading.Thread(target=self._beat, name=name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop renewing (the owner's leases then expire unless it fails its jobs itself)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
        self._thread = None

    def abandon(self, reason: str) -> None:
        """Stop renewing and fail the owner's queued and running jobs with `reason`: its process
        is stopping without finishing them. A database error is logged, not raised: their
        leases then expire and any process sharing the store fails them."""
        self.stop()
        try:
            self.leases.fail_own(self.engine, self.owner, reason)
        except SQLAlchemyError as error:
            log.warning("pending %s jobs not failed at stop: %s", self.kind, type(error).__name__)

    def tend(self) -> None:
        """Renew the owner's leases, then fail the jobs of owners that stopped renewing."""
        try:
            self.leases.renew(self.engine, self.owner, self.pending())
            failed = self.leases.fail_expired(self.engine, self.lease_s)
        except SQLAlchemyError as error:  # the service goes on; /ready reports the database
            log.warning("%s leases not renewed: %s", self.kind, type(error).__name__)
            return
        if failed:
            log.warning(
                "failed %d %s job(s) whose owner stopped renewing its lease", failed, self.kind
            )

    def _beat(self) -> None:
        while not self._stopping.wait(self.lease_s / 4):
            self.tend()

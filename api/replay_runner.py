"""Replay jobs: a planner uploads a log, the service replays it in a worker process.

A job is a row in `replay_jobs` (queued -> running -> done | failed) and a spooled copy of the
log. A small pool of threads, one per worker process, takes jobs in order: the thread marks
the job running, hands `replay_job.run_replay` to the process pool (spawned, so a replay never
holds the API's GIL) and stores the report or the error. The process that queues a job owns
it and renews its lease while it is pending (`api.store.job_leases`); its heartbeat thread also
fails the jobs of owners that died. A job is never left pending for ever: a result that cannot
be stored fails the job with the reason, and stopping the service fails its running and queued
jobs (`STOPPED`) and ends the replay under way with its process (`api.job_processes`).
"""

import logging
import threading
import uuid
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from api.job_processes import end_at_once, job_pool
from api.replay_job import run_replay
from api.store import tables as m
from api.store.job_leases import JobLeases, LeaseHeartbeat, new_owner_id
from api.store.sql_store import utc_now
from api.store.tables import table_of

log = logging.getLogger(__name__)
JOBS = table_of(m.ReplayJob)
STOPPED = "interrupted: the API stopped before the replay finished; submit it again"
LEASES = JobLeases(JOBS, "the API process running it stopped (no heartbeat for {lease_s:g} s)")


class ReplayRunner:
    """Queues replay jobs and runs them `workers` at a time in separate processes."""

    def __init__(
        self, engine: Engine, spool: Path, workers: int, lease_s: float, owner: str | None = None
    ) -> None:
        self.engine = engine
        self.spool = spool
        self.workers = workers
        self.lease_s = lease_s
        self.owner = owner or new_owner_id()
        self._threads: ThreadPoolExecutor | None = None
        self._processes: ProcessPoolExecutor | None = None
        self._pending: dict[str, Path] = {}  # job id -> its spooled log
        self._lock = threading.Lock()
        self._heartbeat = LeaseHeartbeat(
            LEASES, engine, self.owner, lease_s, self._pending_ids, "replay"
        )

    def start(self) -> None:
        """Open the pools, fail the jobs of dead owners and start renewing leases."""
        self.spool.mkdir(parents=True, exist_ok=True)
        self._threads = ThreadPoolExecutor(self.workers, thread_name_prefix="replay")
        self._processes = job_pool(self.workers)  # spawned, gone with this process
        self._heartbeat.start()

    def stop(self) -> None:
        """Fail the running and queued jobs saying why, then end their processes at once (a
        replay of a long log runs for minutes; a stop does not wait for it), stop renewing."""
        threads, processes = self._threads, self._processes
        self._threads = self._processes = None  # no job is submitted or handed over any more
        if threads is not None:
            threads.shutdown(wait=False, cancel_futures=True)  # the queued ones never start
        self._heartbeat.abandon(STOPPED)  # first: a killed process is not the jobs' outcome
        if processes is not None:
            end_at_once(processes)
        if threads is not None:
            threads.shutdown(wait=True)  # each sees its process gone; its job stays failed
        with self._lock:  # jobs cancelled before they started: their logs go too
            cancelled, self._pending = list(self._pending.values()), {}
        for path in cancelled:
            path.unlink(missing_ok=True)

    def new_job_id(self) -> str:
        """A fresh job id."""
        return str(uuid.uuid4())

    def spool_path(self, job_id: str, suffix: str) -> Path:
        """Where the log of job `job_id` is spooled."""
        return self.spool / f"{job_id}{suffix}"

    def submit(
        self, *, job_id: str, filename: str, path: Path, seed: int | None, scenario: dict[str, Any]
    ) -> m.ReplayJob:
        """Record the job (its log already spooled at `path`) as queued, owned by this process."""
        threads = self._threads
        if threads is None:
            raise RuntimeError("the replay runner is not started (or stopping)")
        now = utc_now()
        job = m.ReplayJob(
            id=job_id,
            status="queued",
            filename=filename[:255],
            seed=seed,
            scenario=scenario,
            created_at=now,
            owner=self.owner,
            heartbeat_at=now,
        )
        with self._lock:
            self._pending[job_id] = path
        try:
            with self.engine.begin() as connection:
                connection.execute(JOBS.insert().values(**job.model_dump()))
            threads.submit(self._run, job_id, path, seed, scenario)
        except BaseException:
            self._done_with(job_id)
            raise
        return job

    def get(self, job_id: str) -> m.ReplayJob | None:
        """A job by id."""
        with self.engine.connect() as connection:
            row = connection.execute(select(JOBS).where(JOBS.c.id == job_id)).mappings().first()
        return None if row is None else m.ReplayJob(**row)

    def recent(self, limit: int) -> list[m.ReplayJob]:
        """The latest jobs, newest first."""
        query = select(JOBS).order_by(JOBS.c.created_at.desc(), JOBS.c.id).limit(limit)
        with self.engine.connect() as connection:
            return [m.ReplayJob(**row) for row in connection.execute(query).mappings()]

    def _run(self, job_id: str, path: Path, seed: int | None, scenario: dict[str, Any]) -> None:
        try:
            if self._claim(job_id):
                self._finish(job_id, self._replay(path, seed, scenario))
        finally:
            self._done_with(job_id)
            path.unlink(missing_ok=True)

    def _claim(self, job_id: str) -> bool:
        claimed = LEASES.move(
            self.engine,
            job_id,
            ["queued"],
            owned_by=self.owner,
            status="running",
            started_at=utc_now(),
        )
        if not claimed:
            log.warning("replay job %s is no longer queued here; not run", job_id)
        return claimed

    def _replay(self, path: Path, seed: int | None, scenario: dict[str, Any]) -> dict[str, Any]:
        """The job's final values: done with the result, or failed with the reason."""
        try:
            processes = self._processes
            if processes is None:
                raise RuntimeError("the replay runner was stopped")
            result = processes.submit(run_replay, str(path), seed, scenario).result()
        except Exception as error:
            return {"status": "failed", "error": _reason(error)}
        return {
            "status": "done",
            "error": None,
            "seed": result["report"]["run"]["seed"],
            "events": result["events"],
            "rejected_lines": result["rejected_lines"],
            "result": result,
        }

    def _finish(self, job_id: str, values: dict[str, Any]) -> None:
        finished = {**values, "finished_at": utc_now()}
        try:
            LEASES.move(self.engine, job_id, ["running"], owned_by=self.owner, **finished)
        except SQLAlchemyError as error:  # never leave it running: store why it failed
            log.exception("replay job %s: the result could not be stored", job_id)
            failed = {"status": "failed", "finished_at": utc_now()}
            failed["error"] = f"the result could not be stored: {type(error).__name__}"
            LEASES.move(self.engine, job_id, ["running"], owned_by=self.owner, **failed)

    def _done_with(self, job_id: str) -> None:
        with self._lock:
            self._pending.pop(job_id, None)

    def _pending_ids(self) -> list[str]:
        with self._lock:
            return list(self._pending)


def _reason(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text[:2000]

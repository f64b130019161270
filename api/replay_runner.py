"""Replay jobs: a planner uploads a log, the service replays it in a worker process.

A job is a row in `replay_jobs` (queued -> running -> done | failed) and a spooled copy of the
log. A small pool of threads, one per worker process, takes jobs in order: the thread marks
the job running, hands `replay_job.run_replay` to the process pool (spawned, so a replay never
holds the API's GIL) and stores the report or the error. Jobs left queued or running by a
stopped service are marked failed on the next start, never left pending for ever.
"""

import logging
import multiprocessing
import uuid
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import OperationalError

from api.replay_job import run_replay
from api.store import tables as m
from api.store.sql_store import utc_now
from api.store.tables import table_of

log = logging.getLogger(__name__)
JOBS = table_of(m.ReplayJob)
CHUNK = 1024 * 1024


class UploadTooLargeError(ValueError):
    """The uploaded log is larger than the configured limit."""


class ReplayRunner:
    """Queues replay jobs and runs them `workers` at a time in separate processes."""

    def __init__(self, engine: Engine, spool: Path, workers: int, max_bytes: int) -> None:
        self.engine = engine
        self.spool = spool
        self.workers = workers
        self.max_bytes = max_bytes
        self._threads: ThreadPoolExecutor | None = None
        self._processes: ProcessPoolExecutor | None = None

    def start(self) -> None:
        """Fail the jobs a previous run left unfinished, and open the pools."""
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    update(JOBS)
                    .where(JOBS.c.status.in_(["queued", "running"]))
                    .values(status="failed", error="the service stopped before the job finished")
                )
        except OperationalError as error:  # the service still starts; /ready reports the database
            log.warning("replay jobs not checked, database unavailable: %s", type(error).__name__)
        self.spool.mkdir(parents=True, exist_ok=True)
        self._threads = ThreadPoolExecutor(self.workers, thread_name_prefix="replay")
        context = multiprocessing.get_context("spawn")
        self._processes = ProcessPoolExecutor(self.workers, mp_context=context)

    def stop(self) -> None:
        """Cancel what has not started and wait for the running jobs' processes to end."""
        if self._threads is not None:
            self._threads.shutdown(wait=False, cancel_futures=True)
        if self._processes is not None:
            self._processes.shutdown(wait=True, cancel_futures=True)
        self._threads = self._processes = None

    def submit(
        self,
        *,
        filename: str,
        suffix: str,
        upload: BinaryIO,
        seed: int | None,
        scenario: dict[str, Any],
    ) -> m.ReplayJob:
        """Spool the upload, record the job as queued and hand it to the pool."""
        if self._threads is None:
            raise RuntimeError("the replay runner is not started")
        job_id = str(uuid.uuid4())
        path = self.spool / f"{job_id}{suffix}"
        self._spool(upload, path)
        job = m.ReplayJob(
            id=job_id,
            status="queued",
            filename=filename[:255],
            seed=seed,
            scenario=scenario,
            created_at=utc_now(),
        )
        with self.engine.begin() as connection:
            connection.execute(JOBS.insert().values(**job.model_dump()))
        self._threads.submit(self._run, job_id, path, seed, scenario)
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

    def _spool(self, upload: BinaryIO, path: Path) -> None:
        written = 0
        with path.open("wb") as target:
            while chunk := upload.read(CHUNK):
                written += len(chunk)
                if written > self.max_bytes:
                    target.close()
                    path.unlink(missing_ok=True)
                    raise UploadTooLargeError(f"the log is larger than {self.max_bytes} bytes")
                target.write(chunk)

    def _run(self, job_id: str, path: Path, seed: int | None, scenario: dict[str, Any]) -> None:
        self._update(job_id, status="running", started_at=utc_now())
        try:
            processes = self._processes
            if processes is None:
                raise RuntimeError("the replay runner was stopped")
            result = processes.submit(run_replay, str(path), seed, scenario).result()
        except Exception as error:
            self._update(job_id, status="failed", finished_at=utc_now(), error=_reason(error))
        else:
            self._update(
                job_id,
                status="done",
                finished_at=utc_now(),
                seed=result["report"]["run"]["seed"],
                events=result["events"],
                rejected_lines=result["rejected_lines"],
                result=result,
            )
        finally:
            _remove(path)

    def _update(self, job_id: str, **values: Any) -> None:
        with self.engine.begin() as connection:
            connection.execute(update(JOBS).where(JOBS.c.id == job_id).values(**values))


def _reason(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text[:2000]


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)

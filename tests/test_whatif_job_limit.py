"""The what-if job limit holds across API replicas: concurrent creators never exceed it.

Several threads, each on an engine of its own (as separate API processes are), insert jobs at
the same moment through `insert_within` with room for fewer: exactly the limit is stored and
the others are told how many are pending. On SQLite and PostgreSQL (the `store` fixture).
"""

import threading
import uuid

from sqlalchemy import delete, func, select

from api.store import whatif_jobs_table as jobs
from api.store.db import make_engine
from api.store.sql_store import SqlStore
from tests.test_api_whatif_jobs import pending_row

CREATORS = 8
ROUNDS = 5


def test_concurrent_creators_never_exceed_the_limit(store: SqlStore, database_url: str) -> None:
    forget_jobs(store)
    limit = 2
    for round_ in range(ROUNDS):
        refused: list[int] = []
        barrier = threading.Barrier(CREATORS)
        room = limit * (round_ + 1)  # each round adds `limit` more room
        args = (database_url, room, barrier, refused)
        threads = [threading.Thread(target=create, args=(n, *args)) for n in range(CREATORS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert pending(store) == room, f"round {round_}"
        assert len(refused) == CREATORS - limit
        assert all(count == room for count in refused), refused


def create(
    n: int, database_url: str, room: int, barrier: threading.Barrier, refused: list[int]
) -> None:
    """One replica's creator: its own engine, a job offered when every creator is ready."""
    engine = make_engine(database_url)
    try:
        row = pending_row(f"replica-{n}", heartbeat_age_s=0, status="queued")
        row.id = str(uuid.uuid4())
        barrier.wait()
        running = jobs.insert_within(engine, row, limit=room, lease_s=60)
        if running is not None:
            refused.append(running)
    finally:
        engine.dispose()


def test_jobs_of_dead_owners_do_not_count(store: SqlStore) -> None:
    forget_jobs(store)
    jobs.insert(store.engine, pending_row("dead-replica", heartbeat_age_s=120))
    row = pending_row("alive-replica", heartbeat_age_s=0, status="queued")
    row.id = str(uuid.uuid4())
    assert jobs.insert_within(store.engine, row, limit=1, lease_s=60) is None
    other = pending_row("alive-replica", heartbeat_age_s=0, status="queued")
    other.id = str(uuid.uuid4())
    assert jobs.insert_within(store.engine, other, limit=1, lease_s=60) == 1


def pending(store: SqlStore) -> int:
    table = jobs.table()
    with store.engine.connect() as connection:
        query = select(func.count()).where(table.c.status.in_(jobs.PENDING))
        return int(connection.execute(query).scalar_one())


def forget_jobs(store: SqlStore) -> None:
    """No jobs left by other tests on the session's database."""
    with store.engine.begin() as connection:
        connection.execute(delete(jobs.table()))

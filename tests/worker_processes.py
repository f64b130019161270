"""Real worker processes for the crash and consumer-group tests, and their yardstick.

`start_worker` runs `corridor worker` (wired to the API's SQL store, `tests.broker_fixtures`)
as a process of its own, so a test can SIGKILL it; `worker_of_its_own` is the uninterrupted
run the survivors are compared with: one in-process worker, in a group of its own on the same
topics, into a memory store.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import func, select

from api.store.sql_store import SqlStore
from api.store.tables import DeadLetter, table_of
from streams.connect import connect_worker
from streams.live.memory_store import MemoryStore
from streams.settings import KafkaSettings
from tests.broker_fixtures import SEED, settings_env, stations

ROOT = Path(__file__).resolve().parents[1]


def start_worker(
    settings: KafkaSettings, url: str, log: Path, *extra: str
) -> subprocess.Popen[bytes]:
    """`corridor worker --store URL --seed SEED --exit-with-parent` as a process, its output
    into `log` (a test that dies leaves no worker behind)."""
    command = worker_command(url, "--exit-with-parent")
    env = {**os.environ, **settings_env(settings)}
    with log.open("wb") as sink:
        return subprocess.Popen([*command, *extra], cwd=ROOT, env=env, stdout=sink, stderr=sink)


def worker_command(url: str, *extra: str) -> list[str]:
    """The command line of `corridor worker` on the SQL store at `url`, with the tests' seed."""
    command = [sys.executable, "-m", "tests.broker_fixtures", "worker", "--store", url]
    return [*command, "--seed", str(SEED), *extra]


def worker_of_its_own(settings: KafkaSettings, suffix: str, idle_exit_s: float) -> MemoryStore:
    """A worker never killed, in the group `<group id>-<suffix>` on the same topics (so it
    takes every partition), run until idle for `idle_exit_s` (longer than joining a group
    when the settings ask for group membership); its memory store."""
    store = MemoryStore()
    alone = settings.model_copy(update={"group_id": f"{settings.group_id}-{suffix}"})
    worker = connect_worker(alone, store, stations(), SEED)
    worker.run(idle_exit_s=idle_exit_s)
    worker.close()
    return store


def dead_letter_reasons(store: SqlStore) -> dict[str, int]:
    """Dead letters in the store, counted by reason."""
    table = table_of(DeadLetter)
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(table.c.reason, func.count()).group_by(table.c.reason)
        ).all()
    return {str(reason): int(count) for reason, count in rows}


def as_json(value: Any) -> Any:
    """`value` as it comes back from the store's JSON column."""
    return json.loads(json.dumps(value, allow_nan=False))


def gone(process: psutil.Process, within_s: float) -> bool:
    """Whether the process ended (or is a zombie waiting for its new parent) in time."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False

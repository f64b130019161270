"""Two workers in one consumer group share the yards; one is killed, the survivor takes its yards.

Two real worker processes (`corridor worker --membership group`, the API's SQL store on one
SQLite file) join one group on the embedded broker and share the input partitions (six per
topic, so the three yards hash to partitions that the range assignor gives to both). When both
have taken partitions and archived part of two generated days, one is killed with SIGKILL; the
group gives its partitions to the survivor, which loads their yards from the members' twin
snapshots (the killed one's last periodic one, its own of the hand-over) and the archive after
them (`streams.group_load`), and reads on from the stored offsets. The final KPIs (every yard
and the corridor, every window) equal those of one worker of a group of its own, and those of
a replay of the same events. Two workers both
alive to the end write, through the store's merge of their yard partials, the corridor snapshot
one worker holding every yard writes.
"""

import json
import re
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from api.store.sql_store import SqlStore
from api.store.tables import ArchiveSegment, KpiSnapshot, table_of
from corridor.store_contract import ArchivedEvent, StoredTwinSnapshot
from streams.broker import EmbeddedBroker
from streams.live.memory_store import MemoryStore
from streams.publish import publish
from streams.settings import KafkaSettings
from tests.api_fixtures import final_kpis
from tests.broker_fixtures import (
    expected_kpis,
    generated_day,
    settings_for,
)
from tests.worker_processes import dead_letter_reasons, start_worker, worker_of_its_own

pytestmark = [pytest.mark.broker, pytest.mark.slow]
GROUP = {"membership": "group", "partitions": 6, "batch_size": 100}
TOOK = re.compile(r"assigned \{(.+)\}")
LOADED = re.compile(r"loaded \d+ partitions from snapshots (none|\[[\d, ]+\])")


def test_two_workers_share_the_yards_and_the_survivor_of_a_kill_takes_them(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    hourly = {"kpi_every": timedelta(hours=1), "twin_snapshot_every": timedelta(hours=2)}
    # The rest of the log goes out in one burst while the survivor reads: 40 event-hours in about
    # a second, spread over 18 partitions in whatever order the producer's batches land, which a
    # yard's feed never does. A lateness longer than the log lets the reorder buffer absorb that
    # skew, so what is tested is the hand-over; the watermark's rules under early or skewed
    # partition ends are `tests/test_streams_reorder.py`'s and `tests/test_partition_ends.py`'s.
    late = {"lateness": timedelta(days=3)}
    settings = settings_for(broker, **GROUP, **hourly, **late)  # a member takes every boundary
    events = generated_day(days=2)
    first = [e for e in events if e.ts < events[0].ts + timedelta(hours=8)]  # then a snapshot
    publish(first, settings)
    url = f"sqlite:///{tmp_path / 'twin.db'}"
    store = SqlStore.open(url)
    logs = [tmp_path / "survivor.log", tmp_path / "killed.log"]
    survivor = start_worker(settings, url, logs[0], "--exit-when-idle", "45")
    killed = start_worker(settings, url, logs[1])

    shares = wait_for_shares(logs, [survivor, killed])
    archived_at_kill = wait_for_both(store, settings.group_id, shares, [survivor, killed])
    wait_for_snapshot(store, shares[1], [survivor, killed])
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=10)
    of_killed = {s.id for s in member_snapshots(store, shares[1])}
    publish(events[len(first) :], settings)  # the rest, for the survivor alone
    assert survivor.wait(timeout=300) == 0, logs[0].read_text()[-3000:]

    assert archived_at_kill <= len(first) < len(events), "killed mid-stream"
    assert owned(logs[0])[-1] == shares[0] | shares[1], "the survivor took every partition"
    used = LOADED.findall(logs[0].read_text())[-1]
    assert used != "none", "the survivor loaded the yards from the members' snapshots"
    assert set(json.loads(used)) & of_killed, f"the killed one's snapshot: {used}, {of_killed}"
    archived = [e.event_id for e in store.load_archive() if isinstance(e, ArchivedEvent)]
    assert len(archived) == len(set(archived)) == len(events)
    newest = max(event.ts for event in events)
    alone = single_worker(settings)
    expected = {key: as_json(kpis) for key, kpis in expected_kpis(events, newest).items()}
    assert {key: as_json(s.kpis) for key, s in alone.latest_snapshots().items()} == expected
    assert {s.as_of for s in alone.latest_snapshots().values()} == {newest}
    assert dead_letter_reasons(store) == {}, "no dead letter a single worker would not write"
    final = final_kpis(store)
    differ = sorted(k for k in expected.keys() | final.keys() if final.get(k) != expected.get(k))
    assert not differ, f"scopes unequal to a single worker's: {differ}"


def test_two_live_workers_write_the_corridor_a_single_worker_writes(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """Both members alive to the end, each holding some yards: the store merges the corridor
    snapshot from their yard partials at the boundaries both took (catching up, each on a grid
    of `kpi_every × 2^level` its pace sets, here at most 4 h; grids nest, so the coarser
    one's are shared), and
    it equals the corridor of one worker holding every yard (a group of its own) where that one
    took the same boundary, to the byte, and a replay's at the first and last merged.

    The test stops the members once it has read the merged snapshots: a member leaving on its
    own (`--exit-when-idle`, counted from its own last input) while the other still catches
    up would give that one every partition before the test had read."""
    hourly = {"kpi_every": timedelta(hours=1), "member_kpi_every_max": timedelta(hours=4)}
    stop = {"stop_within_s": 120.0}  # the stop's bound is `tests/test_worker_stop.py`'s
    settings = settings_for(broker, **GROUP, **hourly, **stop)  # 12 boundaries on 4 h at most
    events = generated_day(days=2)
    publish(events, settings)
    url = f"sqlite:///{tmp_path / 'twin.db'}"
    store = SqlStore.open(url)
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    workers = [start_worker(settings, url, log) for log in logs]
    shares = wait_for_shares(logs, workers)
    shared_at = datetime.now(UTC)
    group = merged_while_shared(store, logs, workers, shared_at)
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    for worker, log in zip(workers, logs, strict=True):
        assert worker.wait(timeout=240) == 0, log.read_text()[-3000:]

    alone = {
        (s.window, s.as_of): as_json(s.kpis)
        for (scope, _window, _as_of), s in single_worker(settings).snapshots.items()
        if scope == "corridor"
    }
    merged = sorted({as_of for _window, as_of in group})
    assert len(merged) >= 4, merged  # thinned, not gone: the corridor at several boundaries
    newest = max(event.ts for event in events)
    # boundaries, and the moment both fell quiet at if both twins saw the newest event (a
    # member that joined late loads the other's twin of every yard, newest event and all)
    assert all(as_of.minute == as_of.second == 0 or as_of == newest for as_of in merged), (
        merged,
        shares,
    )
    common = sorted(group.keys() & alone.keys())
    assert common, (merged, sorted(alone))
    assert {key: group[key] for key in common} == {key: alone[key] for key in common}
    for moment in (merged[0], merged[-1]):
        expected = {
            window: as_json(kpis)
            for (scope, window), kpis in expected_kpis(
                [e for e in events if e.ts <= moment], moment
            ).items()
            if scope == "corridor"
        }
        assert {window: group[(window, moment)] for window in expected} == expected, moment


def merged_while_shared(
    store: SqlStore, logs: list[Path], workers: list[subprocess.Popen[bytes]], since: datetime
) -> dict[tuple[str, datetime], Any]:
    """(window, as_of) -> the corridor's KPIs the store merged after `since`, read once both
    workers have gone quiet while each still holds its share (so no worker saw the corridor)."""
    table = table_of(KpiSnapshot)
    query = select(table.c.window, table.c.as_of, table.c.kpis).where(
        table.c.scope == "corridor", table.c.computed_at >= since
    )
    deadline, seen, steady = time.monotonic() + 120, -1, 0
    while time.monotonic() < deadline:
        for worker, log in zip(workers, logs, strict=True):
            assert worker.poll() is None, log.read_text()[-3000:]
            assert len(owned(log)[-1]) < 18, "a worker took every partition"
        with store.engine.connect() as connection:
            merged = {(w, as_of): kpis for w, as_of, kpis in connection.execute(query)}
        steady = steady + 1 if len(merged) == seen else 0
        seen = len(merged)
        if merged and steady >= 20:  # unchanged for 5 s: both quiet
            return merged
        time.sleep(0.25)
    raise AssertionError("the store merged no corridor snapshot while the workers shared")


def owned(log: Path) -> list[frozenset[str]]:
    """Every assignment a worker logged, as the set of `topic[partition]` it was given."""
    return [
        frozenset(item.split(":")[0].strip(" '") for item in match.group(1).split(","))
        for match in TOOK.finditer(log.read_text())
    ]


def wait_for_shares(logs: list[Path], workers: list[subprocess.Popen[bytes]]) -> list[frozenset]:
    """Until both workers hold partitions of the same generation (their shares): disjoint and
    every partition. A worker that joined first held every partition until the other came,
    and its new share may be logged after the other's."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        for worker, log in zip(workers, logs, strict=True):
            assert worker.poll() is None, log.read_text()[-3000:]
        latest = [owned(log)[-1] if owned(log) else frozenset() for log in logs]
        first, second = latest
        if first and second and not first & second and len(first | second) == 18:  # 3 x 6
            return latest
        time.sleep(0.1)
    raise AssertionError("the two workers did not share the partitions in time")


def wait_for_both(
    store: SqlStore,
    group: str,
    shares: list[frozenset[str]],
    workers: list[subprocess.Popen[bytes]],
) -> int:
    """Until each worker has committed offsets of its share; the events archived by then."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert all(worker.poll() is None for worker in workers), "a worker exited too soon"
        read = {
            f"{topic}[{partition}]"
            for (topic, partition), at in store.load_offsets(group).items()
            if at
        }
        if all(read & share for share in shares):
            table = table_of(ArchiveSegment)
            with store.engine.connect() as connection:
                return int(connection.execute(select(func.sum(table.c.events))).scalar_one())
        time.sleep(0.005)
    raise AssertionError("the workers did not both commit in time")


def member_snapshots(store: SqlStore, share: frozenset[str]) -> list[StoredTwinSnapshot]:
    """The stored member snapshots of exactly partitions of `share` (`topic[partition]`)."""
    partitions = {(name.split("[")[0], int(name.split("[")[1].rstrip("]"))) for name in share}
    listed = store.member_snapshots(frozenset(partitions))
    return [s for s in listed if s.scope is not None and s.scope.partitions <= partitions]


def wait_for_snapshot(
    store: SqlStore, share: frozenset[str], workers: list[subprocess.Popen[bytes]]
) -> None:
    """Until a member has stored a twin snapshot of partitions of `share` only."""
    deadline = time.monotonic() + 40  # before the survivor, idle, exits
    while time.monotonic() < deadline:
        assert all(worker.poll() is None for worker in workers), "a worker exited too soon"
        if member_snapshots(store, share):
            return
        time.sleep(0.05)
    raise AssertionError("no member snapshot of the share in time")


def single_worker(settings: KafkaSettings) -> MemoryStore:
    """One worker of a group of its own, on the same topics: it takes every partition."""
    return worker_of_its_own(settings, "alone", idle_exit_s=8.0)  # longer than joining


def as_json(value: Any) -> Any:
    return json.loads(json.dumps(value))

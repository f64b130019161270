"""Fencing a consumer group's members in the store (`api.store.fencing`), SQLite and PostgreSQL.

A member whose partition was claimed by another since its own claim (a zombie: paused past its
session timeout, then awake) has its whole commit refused, in the commit's transaction:
nothing of it is stored, nothing counted twice; the new owner's commits go through.
"""

from datetime import UTC, datetime, timedelta

import pytest

from api.store.sql_store import SqlStore
from corridor.store_contract import ArchivedEvent, FencedError, TwinBatch

T0 = datetime(2026, 3, 2, 6, tzinfo=UTC)


def batch(group: str, partition: int, offset: int, fence: str | None) -> TwinBatch:
    """One event of partition `partition` at `offset`, with its next offset."""
    event = ArchivedEvent(
        f"e-{partition}-{offset}", "yuzui", T0 + timedelta(minutes=offset), b"{}", "t", partition
    )
    archived = [event._replace(offset=offset)]
    return TwinBatch(group, offsets={("t", partition): offset + 1}, archived=archived, fence=fence)


def archived_ids(store: SqlStore) -> list[str]:
    return [e.event_id for e in store.load_archive() if isinstance(e, ArchivedEvent)]


def test_a_member_whose_partition_was_claimed_since_commits_nothing(store: SqlStore) -> None:
    old = store.claim_partitions("g", frozenset({("t", 0), ("t", 1)}))
    store.commit(batch("g", 1, 0, old))
    new = store.claim_partitions("g", frozenset({("t", 1)}))  # the group gave it away

    with pytest.raises(FencedError, match="another member"):
        store.commit(batch("g", 1, 1, old))  # the zombie's next batch: refused whole
    with pytest.raises(FencedError):
        store.commit(batch("g", 0, 0, old))  # even of a partition nobody else claimed yet
    assert archived_ids(store) == ["e-1-0"]
    assert store.load_offsets("g") == {("t", 1): 1}

    store.commit(batch("g", 1, 1, new))  # the new owner reads on from the stored offset
    assert archived_ids(store) == ["e-1-0", "e-1-1"]
    assert store.load_offsets("g") == {("t", 1): 2}


def test_claims_are_per_group_and_unfenced_commits_pass(store: SqlStore) -> None:
    mine = store.claim_partitions("g", frozenset({("t", 0)}))
    store.claim_partitions("other", frozenset({("t", 0)}))  # another group's, same topic
    store.commit(batch("g", 0, 0, mine))
    store.commit(batch("single", 0, 0, None))  # a single worker is not fenced
    assert store.load_offsets("g") == {("t", 0): 1}
    assert store.load_offsets("single") == {("t", 0): 1}

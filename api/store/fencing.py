"""Fencing a consumer group's members: a partition's owner is whoever claimed it last.

A member that was paused past its session timeout (a long GC, a stopped container) wakes up
believing it still owns partitions the group has given to another member. Its next commit
would write offsets, archive and outputs over the new owner's. So each member, on an
assignment, claims its partitions here (`claim`: a fresh random token written on every
partition's row, replacing the previous owner's), and every commit of a member carries its
token (`TwinBatch.fence`) and is checked in the commit's own transaction (`hold`): an
`UPDATE` that touches exactly the rows still carrying the token. Fewer rows than partitions
claimed means another member claimed one since, and the whole commit is refused
(`FencedError`, rolled back: nothing stored). The `UPDATE` takes the rows' write locks
first (a row lock on PostgreSQL, the database's write lock on SQLite), so a claim and a
fenced commit are serialised: the new owner loads the twin after its claim, and sees every
commit the old owner made before it, and none after.
"""

import secrets
from datetime import datetime

from sqlalchemy import Connection, Engine, Table, delete, func, select, update
from sqlmodel import Field, SQLModel

from corridor.store_contract import FencedError, TopicPartition


class PartitionOwnerRow(SQLModel, table=True):
    """Who owns one input partition of a group: the claim token of its last claim."""

    __tablename__ = "partition_owners"

    group: str = Field(primary_key=True)
    topic: str = Field(primary_key=True)
    partition: int = Field(primary_key=True)
    claim: str = Field(index=True)


def _table() -> Table:
    table = PartitionOwnerRow.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


def claim(engine: Engine, group: str, partitions: frozenset[TopicPartition]) -> str:
    """Make a new claim on `partitions` (replacing any owner's): its token, `claimed:count`."""
    token = f"{secrets.token_hex(8)}:{len(partitions)}"
    table = _table()
    rows = [{"group": group, "topic": t, "partition": p, "claim": token} for t, p in partitions]
    with engine.begin() as connection:
        keys = [(table.c.topic == t) & (table.c.partition == p) for t, p in partitions]
        for key in keys:  # delete-and-insert: the same statements on SQLite and PostgreSQL
            connection.execute(delete(table).where((table.c.group == group) & key))
        if rows:
            connection.execute(table.insert(), rows)
    return token


def hold(connection: Connection, group: str, token: str | None) -> None:
    """Refuse the commit in `connection` unless `token` still owns every partition it claimed."""
    if token is None:
        return
    table = _table()
    claimed = int(token.rsplit(":", 1)[1])
    touched = connection.execute(
        update(table).where((table.c.group == group) & (table.c.claim == token)).values(claim=token)
    ).rowcount
    if touched != claimed:
        raise FencedError(
            f"claim {token} of group {group!r} holds {touched} of its {claimed} partitions: "
            "another member took the rest, so this commit is refused"
        )


def partials_until(engine: Engine, table: Table) -> dict[str, datetime]:
    """Per yard, the latest `as_of` of its KPI partials in `table` (`kpi_partials`): up to
    when a new owner's reefer alerts were sent by the old one."""
    query = select(table.c.yard, func.max(table.c.as_of)).group_by(table.c.yard)
    with engine.connect() as connection:
        return {yard: as_of for yard, as_of in connection.execute(query) if as_of is not None}


def owners(engine: Engine, group: str) -> dict[str, int]:
    """Claim token -> partitions it still holds, for a group (for tests and `/ready`)."""
    table = _table()
    query = (
        select(table.c.claim, func.count()).where(table.c.group == group).group_by(table.c.claim)
    )
    with engine.connect() as connection:
        return {token: int(count) for token, count in connection.execute(query)}

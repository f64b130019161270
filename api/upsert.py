"""Keyed upserts that work on SQLite and PostgreSQL alike.

Both dialects speak `INSERT ... ON CONFLICT (key) DO UPDATE`, through their own `insert`
constructs. Rows repeating a key inside one statement are an error on PostgreSQL ("cannot
affect row a second time"), so a batch is first reduced to the last row of each key, which
is also what applying the rows one by one would leave.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

Row = Mapping[str, Any]


def dialect_insert(connection: Connection, table: Table) -> Any:
    """The dialect's own `insert(table)`, which has `on_conflict_do_update`."""
    name = connection.dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"upserts need SQLite or PostgreSQL, not {name}")


def last_per_key(rows: Sequence[Row], key: Sequence[str]) -> list[Row]:
    """The last row for each key, in first-seen key order."""
    latest: dict[tuple[Any, ...], Row] = {}
    for row in rows:
        latest[tuple(row[column] for column in key)] = row
    return list(latest.values())


def upsert(connection: Connection, table: Table, rows: Sequence[Row], key: Sequence[str]) -> None:
    """Insert `rows`, replacing the non-key columns of any row whose `key` already exists."""
    if not rows:
        return
    unique = last_per_key(rows, key)
    statement = dialect_insert(connection, table)
    changed = {name: statement.excluded[name] for name in unique[0] if name not in key}
    if changed:
        statement = statement.on_conflict_do_update(index_elements=list(key), set_=changed)
    else:
        statement = statement.on_conflict_do_nothing(index_elements=list(key))
    connection.execute(statement, [dict(row) for row in unique])


def insert_new(
    connection: Connection, table: Table, rows: Sequence[Row], key: Sequence[str]
) -> None:
    """Insert the rows whose `key` is not stored yet, in order; existing keys are left alone."""
    if not rows:
        return
    statement: Insert = dialect_insert(connection, table).on_conflict_do_nothing(
        index_elements=list(key)
    )
    connection.execute(statement, [dict(row) for row in last_per_key(rows, key)])

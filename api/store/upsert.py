"""Keyed upserts that work on SQLite and PostgreSQL alike, in bulk.

Both dialects speak `INSERT ... ON CONFLICT (key) DO UPDATE`, through their own `insert`
constructs. Rows repeating a key are first reduced to the last row of each key, which is what
applying the rows one by one would leave (and PostgreSQL refuses to touch a row twice in one
statement).

A worker's batch archives tens of thousands of rows. Through `Connection.execute` SQLAlchemy
builds and type-processes a parameter dict per row, which measured twice the database's own
time; here the statement is compiled once (and kept), each column's bind processor (the aware
timestamp's, for instance) is mapped over that column, and the rows go to the driver's `executemany`
as they are (`exec_driver_sql`): same SQL, same transaction, a fraction of the Python work.

The store's commit runs in a thread beside the worker's main thread and holds the GIL through
its Python code (`streams.commits`, `docs/performance.md`), so the per-value work is C calls
mapped over columns. A column whose values are all of types the driver binds exactly as the
column's processor would (`bool` for a Boolean, `float` for SQLite's Float: SQLite binds NaN
as NULL) skips its processor, checked with one `set(map(type, column))`; when every column
does, the rows go to the driver as they came, not rebuilt. Any other value takes the
processor, which converts it or raises as before.

On SQLite the rows go in multi-row statements (`INSERT ... VALUES (?, ...), (?, ...), ...`) of
`ROWS_PER_STATEMENT` rows, not one statement step per row: `sqlite3` releases the GIL around
each step and takes it back after, and with the worker's main thread busy each taking back may
wait out the interpreter's switch interval (a convoy); a few large steps hand the GIL over a
few times a batch, and bind the same values in the same order, so the rows stored are the
same (SQLite applies a multi-row INSERT row by row, upserts included). PostgreSQL keeps the
driver's `executemany` (psycopg pipelines it).
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, islice
from operator import itemgetter
from typing import Any

from sqlalchemy import Boolean, Connection, Float, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.types import TypeEngine

ROWS_PER_STATEMENT = 256
"""SQLite: rows per multi-row INSERT (fewer steps; a larger statement costs more to compile,
and the last one of each batch, shorter, is compiled afresh: `bench_store_commit.py`)."""

Row = Mapping[str, Any]
Values = Sequence[Any]
"""One row as values, in the order of the `columns` it is given with."""


def dialect_insert(connection: Connection, table: Table) -> Any:
    """The dialect's own `insert(table)`, which has `on_conflict_do_update`."""
    name = connection.dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"upserts need SQLite or PostgreSQL, not {name}")


def upsert(connection: Connection, table: Table, rows: Sequence[Row], key: Sequence[str]) -> None:
    """Insert `rows`, replacing the non-key columns of any row whose `key` already exists."""
    if rows:
        columns = list(rows[0])
        upsert_values(connection, table, columns, [_values(row, columns) for row in rows], key)


def upsert_values(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Values],
    key: Sequence[str],
) -> None:
    """`upsert` for rows given as values in `columns` order (no dict per row)."""
    _insert(connection, table, columns, rows, key, replace=True)


def insert_new_values(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Values],
    key: Sequence[str],
) -> None:
    """Insert the rows whose `key` is not stored yet, in order; existing keys are left alone."""
    _insert(connection, table, columns, rows, key, replace=False)


def _insert(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Values],
    key: Sequence[str],
    *,
    replace: bool,
) -> None:
    if rows:
        prepared = _prepared(connection, table, tuple(columns), tuple(key), replace=replace)
        prepared.execute(connection, _last_per_key(rows, columns, key))


@dataclass(frozen=True, slots=True)
class _Prepared:
    """An INSERT compiled for one dialect, with what to do to each row's values."""

    sql: str
    order: tuple[int, ...] | None  # positional dialects: column index of each placeholder
    names: tuple[str, ...]  # named dialects: the bind name of each column
    processors: tuple[tuple[int, Callable[[Any], Any], frozenset[type]], ...]
    """Column index, bind processor, and the value types the driver binds as it would."""
    multirow: tuple[str, str, str] | None  # SQLite: the SQL before, of and after one row

    def execute(self, connection: Connection, rows: Sequence[Values]) -> None:
        """Run the INSERT once per row, through the driver's `executemany`."""
        values: list[Sequence[Any]] = list(zip(*rows, strict=True))  # column by column
        processed = False
        for index, processor, as_is in self.processors:
            if not set(map(type, values[index])) <= as_is:
                values[index] = tuple(map(processor, values[index]))
                processed = True
        parameters: Sequence[Any]
        if self.order is not None:
            if not processed and self.order == tuple(range(len(values))):
                parameters = rows if isinstance(rows, list | tuple) else list(rows)
            else:
                ordered = (values[index] for index in self.order)
                parameters = list(zip(*ordered, strict=True))
        else:
            rows_again = zip(*values, strict=True)
            parameters = [dict(zip(self.names, row, strict=True)) for row in rows_again]
        if self.multirow is None:
            connection.exec_driver_sql(self.sql, parameters)
            return
        before, one_row, after = self.multirow
        flat = chain.from_iterable(parameters)
        width = len(values)
        for start in range(0, len(parameters), ROWS_PER_STATEMENT):
            count = min(ROWS_PER_STATEMENT, len(parameters) - start)
            sql = before + ", ".join([one_row] * count) + after
            connection.exec_driver_sql(sql, tuple(islice(flat, count * width)))


_PREPARED: dict[tuple[Any, ...], _Prepared] = {}
"""Compiled statements by (dialect, table, columns, key, replace): a live worker's small
batches would otherwise spend more on compiling than on the rows."""


def _prepared(
    connection: Connection,
    table: Table,
    columns: tuple[str, ...],
    key: tuple[str, ...],
    *,
    replace: bool,
) -> _Prepared:
    dialect = connection.dialect
    cache_key = (dialect, table, columns, key, replace)
    known = _PREPARED.get(cache_key)
    if known is not None:
        return known
    statement = dialect_insert(connection, table)
    changed = {name: statement.excluded[name] for name in columns if name not in key}
    if replace and changed:
        statement = statement.on_conflict_do_update(index_elements=list(key), set_=changed)
    else:
        statement = statement.on_conflict_do_nothing(index_elements=list(key))
    compiled = statement.compile(dialect=dialect, column_keys=list(columns), for_executemany=True)
    processors = tuple(
        (index, processor, _bound_as_is(table.c[name].type, dialect.name))
        for index, name in enumerate(columns)
        if (processor := table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
    )
    order = (
        tuple(columns.index(name) for name in compiled.positiontup or ())
        if compiled.positional
        else None
    )
    names = tuple(compiled.escaped_bind_names.get(name, name) for name in columns)
    multirow = _rows_of(compiled.string, len(columns)) if dialect.name == "sqlite" else None
    prepared = _Prepared(compiled.string, order, names, processors, multirow)
    _PREPARED[cache_key] = prepared
    return prepared


def _rows_of(sql: str, width: int) -> tuple[str, str, str]:
    """A one-row SQLite INSERT as the SQL before its row of `width` placeholders, the row,
    and the SQL after it (the multi-row statement repeats the row, comma-separated)."""
    one_row = "(" + ", ".join(["?"] * width) + ")"
    before, found, after = sql.partition(f"VALUES {one_row}")
    if not found or one_row in after:
        raise ValueError(f"not a one-row INSERT of {width} values: {sql}")
    return before + "VALUES ", one_row, after


_NONE = type(None)


def _bound_as_is(column_type: TypeEngine[Any], dialect: str) -> frozenset[type]:
    """The value types the driver binds for a column of `column_type` exactly as the column's
    bind processor would have it bind them (none: always run the processor).

    Boolean's processor refuses anything but a bool, 0, 1 or None, and gives a bool or an int:
    the drivers bind a bool as it stands (SQLite as 0 or 1). SQLite's Float processor is
    `float()`, which leaves a float as it is (NaN included, which SQLite stores as NULL).
    """
    if type(column_type) is Boolean:
        return frozenset({bool, _NONE})
    if type(column_type) is Float and dialect == "sqlite" and not column_type.asdecimal:
        return frozenset({float, _NONE})
    return frozenset()


def _values(row: Row, columns: Sequence[str]) -> tuple[Any, ...]:
    if len(row) != len(columns):
        raise ValueError(f"rows of one batch need the same columns: {sorted(row)} vs {columns}")
    return tuple(row[name] for name in columns)


def _last_per_key(
    rows: Sequence[Values], columns: Sequence[str], key: Sequence[str]
) -> Sequence[Values]:
    """The last row for each key, in first-seen key order; no repeated key costs one set."""
    keys = list(map(itemgetter(*(list(columns).index(name) for name in key)), rows))
    if len(set(keys)) == len(keys):
        return rows
    latest: dict[Any, Values] = {}
    for row_key, row in zip(keys, rows, strict=True):
        latest[row_key] = row
    return list(latest.values())

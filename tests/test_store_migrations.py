"""The schema is made by the migrations alone, and they agree with the models."""

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import LargeBinary, String, column, insert, inspect, select, table
from sqlmodel import SQLModel

import api.store.tables  # noqa: F401  (registers the tables)
from api.store.db import UtcDateTime, alembic_config, upgrade
from api.store.sql_store import SqlStore
from corridor.store_contract import ArchivedEvent, ArchiveEntry, ClockAdvance


def test_the_migrated_schema_matches_the_models(store: SqlStore) -> None:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_downgrade_to_nothing_and_back(store: SqlStore) -> None:
    command.downgrade(alembic_config(store.engine), "base")
    assert set(inspect(store.engine).get_table_names()) <= {"alembic_version"}
    upgrade(store.engine)
    assert set(SQLModel.metadata.tables) <= set(inspect(store.engine).get_table_names())


def test_the_row_per_event_archive_moves_into_segments_and_back(store: SqlStore) -> None:
    """Revision 0002 keeps an existing archive: same entries, same order, same bytes."""
    config = alembic_config(store.engine)
    command.downgrade(config, "0001")
    old_archive = table(
        "event_archive",
        column("key", String()),
        column("kind", String()),
        column("yard", String()),
        column("ts", UtcDateTime()),
        column("raw", LargeBinary()),
    )
    t0 = datetime(2026, 3, 1, 8, tzinfo=timezone(timedelta(hours=8)))
    expected: list[ArchiveEntry] = []
    rows: list[dict[str, Any]] = []
    for index in range(25_001):  # more than two moved segments
        moment = t0 + timedelta(seconds=index)
        if index % 1000 == 999:
            expected.append(ClockAdvance(moment))
            rows.append({"key": f"advance@{moment.astimezone(UTC).isoformat()}", "kind": "advance",
                         "yard": None, "ts": moment, "raw": None})  # fmt: skip
        else:
            raw = f'{{"event_id":"e{index}"}}'.encode()
            expected.append(ArchivedEvent(f"e{index}", "yuzui", moment, raw))
            rows.append({"key": f"e{index}", "kind": "event", "yard": "yuzui", "ts": moment,
                         "raw": raw})  # fmt: skip
    with store.engine.begin() as connection:
        connection.execute(insert(old_archive), rows)

    upgrade(store.engine)
    assert list(store.load_archive()) == expected
    assert "event_archive" not in inspect(store.engine).get_table_names()

    command.downgrade(config, "0001")
    with store.engine.connect() as connection:
        back = connection.execute(select(old_archive).order_by(column("seq"))).mappings().all()
    assert [dict(row) for row in back] == rows
    upgrade(store.engine)

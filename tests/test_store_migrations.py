"""The schema is made by the migrations alone, and they agree with the models."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import api.models  # noqa: F401  (registers the tables)
from api.db import alembic_config, upgrade
from api.store import SqlStore


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

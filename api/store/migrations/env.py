"""Alembic environment: run against the engine the caller put in `config.attributes["engine"]`.

Migrations are run programmatically (`api.store.db.upgrade`), never from an ini file, so the
database URL always comes from the settings. SQLite alters tables in batch mode.
"""

from alembic import context
from sqlalchemy import Engine
from sqlmodel import SQLModel

import api.store.tables  # noqa: F401  (registers the tables for autogenerate)

engine = context.config.attributes.get("engine")
if not isinstance(engine, Engine):
    raise RuntimeError("run migrations through api.db.upgrade(engine), which supplies the engine")

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()

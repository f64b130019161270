"""`corridor api` (serve the API and dashboard), `corridor db upgrade` (migrate the store) and
`corridor db check` (a container's health check: the store answers, a worker commits).

Registered into the `corridor` command line by `corridor.cli`, its one composition root.
Settings come from the environment (`CORRIDOR_API_*`, `CORRIDOR_DATABASE_URL` or its parts
`CORRIDOR_DATABASE_HOST`, `_PORT`, `_USER`, `_PASSWORD`, `_NAME`); the flags override them.
Unsafe settings (a default API key outside development) stop the command with the reason and
exit code 2, before anything listens; so does a database that cannot be opened (a bad URL, a
server that does not answer), in one line that names it (password hidden).

The web app, uvicorn and the SQL store are imported when a command runs, not when it is
registered: every `corridor` command line builds this parser, and those imports cost seconds
that `corridor --version` or a refused `corridor replay` should not pay.
"""

import argparse
import sys
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from api.settings import ApiSettings, DatabaseSettings
from corridor.cli.errors import UserError

UNHEALTHY = 1
"""`corridor db check`'s exit code for "not healthy" (a container health check's convention)."""

if TYPE_CHECKING:
    from sqlalchemy.exc import SQLAlchemyError

    from api.store.sql_store import SqlStore


def add_commands(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Register `api` and `db upgrade`."""
    serve = subparsers.add_parser("api", help="serve the operators' API and dashboard")
    serve.add_argument("--host", help="interface to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8000)")
    serve.add_argument("--database-url", help="store URL (default $CORRIDOR_DATABASE_URL)")
    serve.add_argument(
        "--no-migrate", action="store_true", help="do not upgrade the schema on start"
    )
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    serve.set_defaults(handler=run_api)

    database = subparsers.add_parser("db", help="the store's schema")
    actions = database.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    migrate = actions.add_parser("upgrade", help="migrate the store to the latest schema")
    migrate.add_argument("--database-url", help="store URL (default $CORRIDOR_DATABASE_URL)")
    migrate.add_argument("--revision", default="head", help="target revision (default head)")
    migrate.set_defaults(handler=run_db_upgrade)
    check = actions.add_parser("check", help="exit 0 if the store answers (a health check)")
    check.add_argument("--database-url", help="store URL (default $CORRIDOR_DATABASE_URL)")
    check.add_argument(
        "--worker-within",
        type=float,
        metavar="S",
        help="also require a worker commit (its heartbeat) in the last S seconds",
    )
    check.set_defaults(handler=run_db_check)


def run_api(args: argparse.Namespace) -> int:
    """Serve the API with one uvicorn worker until interrupted."""
    import uvicorn

    from api.app import create_app

    overrides: dict[str, Any] = {
        key: value
        for key, value in (
            ("host", args.host),
            ("port", args.port),
            ("database_url", args.database_url),
        )
        if value is not None
    }
    if args.no_migrate:
        overrides["migrate_on_start"] = False
    try:
        settings = ApiSettings(**overrides)
    except ValidationError as error:
        print(f"corridor api: {settings_problem(error)}", file=sys.stderr)
        return 2
    app = create_app(settings)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=args.log_level, workers=1)
    return 0


def run_db_upgrade(args: argparse.Namespace) -> int:
    """Bring the store's schema to the given revision."""
    from sqlalchemy.exc import SQLAlchemyError

    from api.store.db import make_engine, upgrade

    url = args.database_url or settings_database_url()
    try:
        engine = make_engine(url)
        try:
            upgrade(engine, args.revision)
        finally:
            engine.dispose()
    except SQLAlchemyError as error:
        print(f"corridor db upgrade: {database_problem(url, error)}", file=sys.stderr)
        return 2
    print(f"corridor db: {engine.url.render_as_string(hide_password=True)} at {args.revision}")
    return 0


def run_db_check(args: argparse.Namespace) -> int:
    """Exit 0 when the store answers (and a worker committed lately, if asked); else say why."""
    from datetime import timedelta

    from sqlalchemy.exc import SQLAlchemyError

    from api.store import readers
    from api.store.db import make_engine
    from api.store.sql_store import utc_now

    url = args.database_url or settings_database_url()
    try:
        engine = make_engine(url)
        try:
            readers.ping(engine)
            workers = readers.workers(engine) if args.worker_within is not None else []
        finally:
            engine.dispose()
    except SQLAlchemyError as error:
        print(f"corridor db check: {database_problem(url, error)}", file=sys.stderr)
        return UNHEALTHY
    if args.worker_within is None:
        return 0
    since = utc_now() - timedelta(seconds=args.worker_within)
    if not any(worker.committed_at >= since for worker in workers):
        print(
            f"corridor db check: no worker committed in the last {args.worker_within:g} s "
            f"({len(workers)} group(s) known); see the worker's log",
            file=sys.stderr,
        )
        return UNHEALTHY
    return 0


def settings_database_url() -> str:
    """The store's URL from `CORRIDOR_DATABASE_*`; inconsistent variables are a UserError."""
    try:
        return DatabaseSettings().database_url
    except ValidationError as error:
        raise UserError(settings_problem(error)) from None


def open_store(url: str | None) -> "SqlStore":
    """The durable store at `url` (default: from the environment, migrated); a database that
    cannot be opened is a UserError."""
    from sqlalchemy.exc import SQLAlchemyError

    from api.store.sql_store import SqlStore

    url = url or settings_database_url()
    try:
        return SqlStore.open(url)
    except SQLAlchemyError as error:
        raise UserError(database_problem(url, error)) from None


def database_problem(url: str, error: "SQLAlchemyError") -> str:
    """One line: which database (password hidden), what went wrong, what to do."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return f"{url!r} is not a database URL; give one like sqlite:///./corridor.db"
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
    return (
        f"the database {shown} cannot be opened ({reason}); check --database-url / --store "
        "or CORRIDOR_DATABASE_URL (or CORRIDOR_DATABASE_HOST and its parts), and that the "
        "server runs"
    )


def settings_problem(error: ValidationError) -> str:
    """The settings' problems, one per field, without echoing any value (keys are secret)."""
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item.get("loc", ())) or "settings"
        problems.append(f"{where}: {item.get('msg', 'invalid')}")
    return "; ".join(problems)

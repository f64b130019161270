"""The store's URL from escaped parts (`CORRIDOR_DATABASE_HOST`, `_PORT`, `_USER`, `_PASSWORD`,
`_NAME`): a password holding `@`, `/`, `%` or `:` reaches PostgreSQL intact, where the same
password pasted into a URL by hand (as Compose interpolation would) points somewhere else."""

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from psycopg import sql
from pydantic import ValidationError
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from api.settings import ApiSettings, DatabaseSettings
from corridor.cli import main
from tests.api_fixtures import POSTGRES_ENV

HOSTILE = "p@ss/w%rd:?#&= 'x"
PARTS = ("URL", "API_DATABASE_URL", "HOST", "PORT", "USER", "PASSWORD", "NAME", "DRIVER")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No `CORRIDOR_DATABASE_*` from the machine leaks into these tests."""
    for part in PARTS:
        monkeypatch.delenv(f"CORRIDOR_DATABASE_{part}", raising=False)
    monkeypatch.delenv("CORRIDOR_API_DATABASE_URL", raising=False)


def test_the_parts_make_a_url_that_parses_back_to_them() -> None:
    settings = DatabaseSettings(host="db", port=5433, user="twin", password=HOSTILE, name="c")
    url = make_url(settings.database_url)
    assert (url.drivername, url.host, url.port, url.username, url.password, url.database) == (
        "postgresql+psycopg",
        "db",
        5433,
        "twin",
        HOSTILE,
        "c",
    )
    by_hand = make_url(f"postgresql+psycopg://twin:{HOSTILE}@db:5433/c")
    assert (by_hand.host, by_hand.password) != ("db", HOSTILE)  # the problem the parts solve


def test_the_url_or_the_default_without_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    assert DatabaseSettings().database_url == "sqlite:///./corridor.db"
    monkeypatch.setenv("CORRIDOR_DATABASE_URL", "sqlite:///elsewhere.db")
    assert DatabaseSettings().database_url == "sqlite:///elsewhere.db"
    assert ApiSettings(mode="development").database_url == "sqlite:///elsewhere.db"


@pytest.mark.parametrize(
    ("variables", "problem"),
    [
        ({"URL": "sqlite:///a.db", "HOST": "db"}, "give the URL or the parts, not both"),
        ({"URL": "sqlite:///a.db", "PASSWORD": HOSTILE}, "give the URL or the parts, not both"),
        ({"USER": "twin", "NAME": "c"}, "_USER, CORRIDOR_DATABASE_NAME set without"),
        ({"HOST": "db", "PASSWORD": HOSTILE}, "PASSWORD set without CORRIDOR_DATABASE_USER"),
        ({"HOST": "db", "PORT": "99999"}, "less than or equal to 65535"),
    ],
)
def test_inconsistent_parts_are_refused_without_showing_the_password(
    variables: dict[str, str],
    problem: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for part, value in variables.items():
        monkeypatch.setenv(f"CORRIDOR_DATABASE_{part}", value)
    with pytest.raises(ValidationError, match=problem) as refused:
        DatabaseSettings()
    assert HOSTILE not in str(refused.value)
    assert main(["db", "upgrade"]) == 2
    assert main(["worker", "--exit-when-idle", "0"]) == 2  # the worker reads the same settings
    err = capsys.readouterr().err
    assert problem in err
    assert HOSTILE not in err
    assert len(err.strip().splitlines()) == 2  # one line per command


@dataclass(frozen=True)
class Role:
    host: str
    port: int
    name: str  # the role's and its database's


@pytest.fixture
def hostile_role() -> Iterator[Role]:
    """A PostgreSQL role and database of its own, its password the hostile one; dropped after."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV}")
    admin_url = make_url(base)
    role = Role(
        admin_url.host or "127.0.0.1", admin_url.port or 5432, f"cd_{uuid.uuid4().hex[:10]}"
    )
    conninfo = admin_url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(role.name), sql.Literal(HOSTILE)
            )
        )
        admin.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(role.name), sql.Identifier(role.name)
            )
        )
    try:
        yield role
    finally:
        with psycopg.connect(conninfo, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(role.name))
            )
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role.name)))


@pytest.mark.postgres
def test_a_password_that_breaks_urls_reaches_postgresql(
    hostile_role: Role, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`corridor db upgrade` and `db check` from the parts alone, as the Compose services run.

    This machine's server trusts loopback connections, so it would accept any password: what
    proves the password intact is libpq's own record of the one it sent (`info.password`)."""
    for part, value in {
        "HOST": hostile_role.host,
        "PORT": str(hostile_role.port),
        "USER": hostile_role.name,
        "PASSWORD": HOSTILE,
        "NAME": hostile_role.name,
    }.items():
        monkeypatch.setenv(f"CORRIDOR_DATABASE_{part}", value)

    assert main(["db", "upgrade"]) == 0
    assert main(["db", "check"]) == 0
    shown = capsys.readouterr().out
    assert hostile_role.name in shown
    assert HOSTILE not in shown

    engine = create_engine(DatabaseSettings().database_url)
    try:
        with engine.connect() as connection:
            user, database = connection.execute(
                text("SELECT current_user, current_database()")
            ).one()
            sent = connection.connection.driver_connection.info.password  # type: ignore[union-attr]
            tables = connection.execute(text("SELECT count(*) FROM worker_commits")).scalar_one()
    finally:
        engine.dispose()
    assert (user, database, sent, tables) == (hostile_role.name, hostile_role.name, HOSTILE, 0)

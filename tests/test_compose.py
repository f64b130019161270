"""docker-compose.yml cannot run here (no Docker engine), so check what can be checked:
its services run real `corridor` commands, and every setting it passes exists."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from api.settings import ApiSettings
from corridor.cli import build_parser
from streams.settings import KafkaSettings

COMPOSE = Path(__file__).resolve().parents[1] / "docker-compose.yml"


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text())["services"])


def test_our_services_run_real_commands(services: dict[str, Any]) -> None:
    ours = {name: spec for name, spec in services.items() if "build" in spec}
    assert set(ours) == {"migrate", "worker", "api"}
    parser = build_parser()
    for spec in ours.values():
        args = parser.parse_args(spec["command"])
        assert callable(args.handler)


def test_every_setting_passed_exists(services: dict[str, Any]) -> None:
    known = {f"CORRIDOR_KAFKA_{name.upper()}" for name in KafkaSettings.model_fields}
    known |= {f"CORRIDOR_API_{name.upper()}" for name in ApiSettings.model_fields}
    known.add("CORRIDOR_DATABASE_URL")
    for name, spec in services.items():
        for variable in spec.get("environment", {}):
            if variable.startswith("CORRIDOR_"):
                assert variable in known, f"{name}: {variable} is not a setting"


def test_no_credentials_in_the_file() -> None:
    text = COMPOSE.read_text()
    assert "POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?" in text
    assert "password" not in text.lower().replace("postgres_password", "")

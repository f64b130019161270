"""Access control: open or protected reads, API-key-only changes, no default keys, no leaks."""

import logging

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError

from api.app import create_app
from api.settings import ApiSettings
from api.store.sql_store import SqlStore
from tests.api_fixtures import T0, TEST_KEY, corridor_batch, test_settings

READ_TOKEN = "read-token-5d0b91a2"
READ_PATHS: tuple[str, ...] = (
    "/yards",
    "/yards/yuzui",
    "/yards/yuzui/kpis",
    "/corridor/kpis/history",
)
READ_PATHS += ("/metrics", "/dead-letters", "/replays", "/yards/yuzui/reefers")


@pytest.mark.parametrize(
    "key", ["", "   ", "changeme", "secret", "DEV", "x", "password", "12345678", "a" * 15]
)
def test_production_refuses_empty_default_or_short_keys(key: str) -> None:
    with pytest.raises(ValidationError, match="CORRIDOR_API_API_KEY is empty, a default or short"):
        ApiSettings(mode="production", api_key=SecretStr(key))


def test_production_takes_a_key_of_16_characters_and_refuses_a_short_read_token() -> None:
    assert ApiSettings(mode="production", api_key=SecretStr("k" * 16)).api_key
    with pytest.raises(ValidationError, match="CORRIDOR_API_READ_TOKEN is empty, a default or"):
        ApiSettings(mode="production", api_key=SecretStr("k" * 16), read_token=SecretStr("t" * 15))


def test_the_environment_configures_the_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORRIDOR_API_API_KEY", TEST_KEY)
    monkeypatch.setenv("CORRIDOR_API_READ_TOKEN", READ_TOKEN)
    monkeypatch.setenv("CORRIDOR_DATABASE_URL", "sqlite:///elsewhere.db")
    settings = ApiSettings()
    assert settings.mode == "production"
    assert settings.api_key.get_secret_value() == TEST_KEY
    assert settings.database_url == "sqlite:///elsewhere.db"
    assert not settings.reads_open
    monkeypatch.setenv("CORRIDOR_API_MODE", "development")
    monkeypatch.setenv("CORRIDOR_API_API_KEY", "")
    assert ApiSettings().mode == "development"


def test_settings_are_frozen() -> None:
    settings = ApiSettings(mode="development")
    with pytest.raises(ValidationError):
        settings.port = 1  # type: ignore[misc]


def test_development_mode_allows_an_empty_key_but_changes_stay_closed(
    store: SqlStore, database_url: str
) -> None:
    settings = ApiSettings(mode="development", database_url=database_url, api_key=SecretStr(""))
    with TestClient(create_app(settings, store=store)) as client:
        response = client.post(
            "/replays", files={"log": ("t.jsonl", b"{}\n")}, headers={"X-API-Key": ""}
        )
        assert response.status_code == 403
        assert "no API key is configured" in response.json()["detail"]
        assert client.get("/yards").status_code == 200


@pytest.mark.parametrize(
    ("headers", "cookies", "status"),
    [
        ({}, {}, 401),
        ({"Authorization": f"Bearer {READ_TOKEN}"}, {}, 200),
        ({"Authorization": "Bearer nope"}, {}, 401),
        ({"Authorization": f"Basic {READ_TOKEN}"}, {}, 401),
        ({"X-API-Key": TEST_KEY}, {}, 200),
        ({"X-API-Key": READ_TOKEN}, {}, 200),
        ({}, {"corridor_token": READ_TOKEN}, 200),
        ({}, {"corridor_token": "stale"}, 401),
    ],
)
def test_protected_reads_need_the_token_or_the_key(
    store: SqlStore,
    database_url: str,
    headers: dict[str, str],
    cookies: dict[str, str],
    status: int,
) -> None:
    store.commit(corridor_batch(T0))
    settings = test_settings(database_url, read_token=SecretStr(READ_TOKEN))
    with TestClient(create_app(settings, store=store), cookies=cookies) as client:
        for path in READ_PATHS:
            assert client.get(path, headers=headers).status_code == status, path
        assert client.get("/health").status_code == 200
        assert client.get("/ready").status_code == 200
        assert client.get("/").status_code == 200


def test_keys_never_reach_logs_reprs_or_answers(
    store: SqlStore, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = test_settings(database_url, read_token=SecretStr(READ_TOKEN))
    texts = [repr(settings), str(settings), settings.model_dump_json()]
    with TestClient(create_app(settings, store=store)) as client:
        answers = [
            client.get("/yards", headers={"Authorization": "Bearer wrong"}).text,
            client.get("/yards", headers={"Authorization": f"Bearer {READ_TOKEN}"}).text,
            client.post(
                "/replays", files={"log": ("t.csv", b"{}")}, headers={"X-API-Key": "wrong"}
            ).text,
            client.post(
                "/replays", files={"log": ("t.csv", b"{}")}, headers={"X-API-Key": TEST_KEY}
            ).text,
            client.get("/metrics", headers={"X-API-Key": TEST_KEY}).text,
            client.get("/openapi.json").text,
        ]
    with pytest.raises(ValidationError) as refused:
        ApiSettings(
            mode="production", api_key=SecretStr("changeme"), read_token=SecretStr(READ_TOKEN)
        )
    texts += [*answers, caplog.text, str(refused.value)]
    assert caplog.records  # something was logged, so the check below means something
    for text in texts:
        assert TEST_KEY not in text
        assert READ_TOKEN not in text

"""The API's settings: read once from the environment (prefix `CORRIDOR_API_`), frozen, injected.

Keys are `SecretStr`, so they print as `**********` in logs, reprs and tracebacks. Outside
development mode the service refuses to start with an empty or well-known API key: a mutating
endpoint guarded by a default key is not guarded. Reads are open unless `read_token` is set;
then they need it (or the API key) as `Authorization: Bearer ...`, `X-API-Key`, or the
dashboard's cookie. The database URL is shared with the worker, hence `CORRIDOR_DATABASE_URL`.
"""

from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_KEYS = frozenset({"", "changeme", "change-me", "secret", "development", "dev", "default"})
"""Keys that protect nothing: refused outside development mode."""

WINDOWS = ("1h", "shift", "24h", "7d")
"""The rolling KPI windows the worker snapshots (a shift is 8 h)."""


class SettingsError(ValueError):
    """The settings are unsafe or inconsistent (the service must not start)."""


DATABASE_URL_FIELD = Field(
    default="sqlite:///./corridor.db",
    validation_alias=AliasChoices(
        "database_url", "CORRIDOR_DATABASE_URL", "CORRIDOR_API_DATABASE_URL"
    ),
)


class DatabaseSettings(BaseSettings):
    """Just the store's URL (for `corridor db upgrade`, which needs no API key)."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    database_url: str = DATABASE_URL_FIELD


class ApiSettings(BaseSettings):
    """Everything the service needs to know, from `CORRIDOR_API_*` variables (or arguments)."""

    model_config = SettingsConfigDict(env_prefix="CORRIDOR_API_", frozen=True, extra="ignore")

    mode: Literal["development", "production"] = "production"
    database_url: str = DATABASE_URL_FIELD
    api_key: SecretStr = SecretStr("")
    read_token: SecretStr | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    kpi_cache_ttl_s: float = Field(default=1.0, ge=0.0, le=60.0)
    stream_poll_s: float = Field(default=1.0, gt=0.0, le=60.0)
    worker_stale_s: float = Field(default=120.0, gt=0.0)
    # Longer than the worker's KPI cadence (15 min of event time, so about 15 min of wall time
    # when live), or a healthy worker's data would be called stale between its snapshots.
    snapshot_stale_s: float = Field(default=1200.0, gt=0.0)
    replay_workers: int = Field(default=1, ge=1, le=16)
    max_upload_mb: int = Field(default=200, ge=1)
    migrate_on_start: bool = True

    @model_validator(mode="after")
    def _refuse_default_keys(self) -> "ApiSettings":
        if self.mode == "development":
            return self
        if self.api_key.get_secret_value().strip().lower() in DEFAULT_KEYS:
            raise SettingsError(
                "CORRIDOR_API_API_KEY is empty or a default: set a real key, "
                "or CORRIDOR_API_MODE=development on a development machine"
            )
        token = self.read_token
        if token is not None and token.get_secret_value().strip().lower() in DEFAULT_KEYS:
            raise SettingsError("CORRIDOR_API_READ_TOKEN is empty or a default: set a real token")
        return self

    @property
    def reads_open(self) -> bool:
        """Whether read endpoints are open to anyone who can reach the service."""
        return self.read_token is None or not self.read_token.get_secret_value()

"""The API's settings: read once from the environment (prefix `CORRIDOR_API_`), frozen, injected.

Keys are `SecretStr`, so they print as `**********` in logs, reprs and tracebacks. Outside
development mode the service refuses to start with an empty, short (under 16 characters) or
well-known API key: a mutating endpoint guarded by a guessable key is not guarded. Reads are
open unless `read_token` is set; then they need it (or the API key) as `Authorization: Bearer
...`, `X-API-Key`, or the dashboard's cookie. The database URL is shared with the worker,
hence `CORRIDOR_DATABASE_URL`.
"""

from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_KEYS = frozenset({"", "changeme", "change-me", "secret", "development", "dev", "default"})
"""Keys that protect nothing: refused outside development mode."""

MIN_KEY_LENGTH = 16
"""Shorter keys and tokens are refused outside development mode (`x`, `12345678`, ...)."""

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
    max_upload_mb: int = Field(default=200, ge=1, le=100_000)
    migrate_on_start: bool = True
    # Limits: what one client, or all of them, may make the service do at once.
    stream_max_connections: int = Field(default=200, ge=1)
    stream_max_per_client: int = Field(default=8, ge=1)
    stream_max_backlog: int = Field(default=2000, ge=0)
    history_max_rows: int = Field(default=50_000, ge=1)
    history_max_concurrent: int = Field(default=4, ge=1)
    history_max_per_client: int = Field(default=2, ge=1)
    retry_after_s: int = Field(default=5, ge=1, le=3600)
    replay_lease_s: float = Field(default=60.0, ge=1.0, le=3600.0)
    # Forecasts and what-ifs from the live yard (docs/forecast.md): the worker's seed (its
    # `--seed`), so the replayed yards draw what the live twin drew; how much archive is
    # replayed; the event-time grid a forecast is kept for; replications; forked at a time.
    forecast_seed: int = Field(default=2026, ge=0)
    forecast_lookback_h: float = Field(default=168.0, ge=1.0, le=24.0 * 30)
    forecast_every_min: int = Field(default=15, ge=1, le=24 * 60)
    forecast_replications: int = Field(default=8, ge=2, le=64)
    forecast_workers: int = Field(default=2, ge=1, le=16)
    whatif_max_jobs: int = Field(default=2, ge=1, le=64)

    @model_validator(mode="after")
    def _refuse_default_keys(self) -> "ApiSettings":
        if self.mode == "development":
            return self
        if _guessable(self.api_key):
            raise SettingsError(
                f"CORRIDOR_API_API_KEY is empty, a default or shorter than {MIN_KEY_LENGTH} "
                "characters: set a real key (openssl rand -hex 24), "
                "or CORRIDOR_API_MODE=development on a development machine"
            )
        if self.read_token is not None and _guessable(self.read_token):
            raise SettingsError(
                f"CORRIDOR_API_READ_TOKEN is empty, a default or shorter than {MIN_KEY_LENGTH} "
                "characters: set a real token"
            )
        return self

    @property
    def max_upload_bytes(self) -> int:
        """The largest event log a replay job accepts, in bytes."""
        return self.max_upload_mb * 1024 * 1024

    @property
    def reads_open(self) -> bool:
        """Whether read endpoints are open to anyone who can reach the service."""
        return self.read_token is None or not self.read_token.get_secret_value()


def _guessable(secret: SecretStr) -> bool:
    value = secret.get_secret_value().strip()
    return value.lower() in DEFAULT_KEYS or len(value) < MIN_KEY_LENGTH

"""The API's settings: read once from the environment (prefix `CORRIDOR_API_`), frozen, injected.

Keys are `SecretStr`, so they print as `**********` in logs, reprs and tracebacks. Outside
development mode the service refuses to start with an empty, short (under 16 characters) or
well-known API key: a mutating endpoint guarded by a guessable key is not guarded. Reads are
open unless `read_token` is set; then they need it (or the API key) as `Authorization: Bearer
...`, `X-API-Key`, or the dashboard's cookie. The database is shared with the worker, hence
`CORRIDOR_DATABASE_URL` or its parts (`DatabaseSettings`), not `CORRIDOR_API_*`.
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


DEFAULT_DATABASE_URL = "sqlite:///./corridor.db"
PART_VARIABLES = ("PORT", "USER", "PASSWORD", "NAME")
"""`CORRIDOR_DATABASE_<PART>` variables that mean nothing without `CORRIDOR_DATABASE_HOST`."""


class DatabaseSettings(BaseSettings):
    """Where the store is: a whole URL, or its parts (`CORRIDOR_DATABASE_*`), never both.

    The parts exist because a password holding `@`, `/` or `%` breaks a URL written by hand (or
    interpolated by Compose); `sqlalchemy.engine.URL.create` escapes each part. Shared by the
    API, the worker and `corridor db`, hence the prefix without `API`.
    """

    model_config = SettingsConfigDict(
        env_prefix="CORRIDOR_DATABASE_",
        frozen=True,
        extra="ignore",
        populate_by_name=True,
        hide_input_in_errors=True,  # the input holds the password
    )

    url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("CORRIDOR_DATABASE_URL", "CORRIDOR_API_DATABASE_URL"),
    )
    driver: str = "postgresql+psycopg"
    host: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    user: str | None = None
    password: SecretStr | None = None
    name: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> "DatabaseSettings":
        parts = [f"CORRIDOR_DATABASE_{part}" for part in PART_VARIABLES if self._has(part)]
        if self.url and (self.host or parts):
            raise SettingsError(
                "CORRIDOR_DATABASE_URL and CORRIDOR_DATABASE_HOST (or its parts) are both set: "
                "give the URL or the parts, not both"
            )
        if parts and not self.host:
            raise SettingsError(f"{', '.join(parts)} set without CORRIDOR_DATABASE_HOST: set it")
        if self.password is not None and not self.user:
            raise SettingsError("CORRIDOR_DATABASE_PASSWORD set without CORRIDOR_DATABASE_USER")
        return self

    def _has(self, part: str) -> bool:
        return getattr(self, part.lower()) is not None

    @property
    def database_url(self) -> str:
        """The URL to open: the given one, one built from the parts, or the SQLite default."""
        if self.url:
            return self.url
        if not self.host:
            return DEFAULT_DATABASE_URL
        from sqlalchemy.engine import URL  # here: `corridor --version` should not import SQL

        password = self.password.get_secret_value() if self.password is not None else None
        built = URL.create(
            self.driver,
            username=self.user,
            password=password,
            host=self.host,
            port=self.port,
            database=self.name,
        )
        return built.render_as_string(hide_password=False)


def database_url() -> str:
    """The store's URL from the environment (raises SettingsError when it is ambiguous)."""
    return DatabaseSettings().database_url


class ApiSettings(BaseSettings):
    """Everything the service needs to know, from `CORRIDOR_API_*` variables (or arguments)."""

    model_config = SettingsConfigDict(env_prefix="CORRIDOR_API_", frozen=True, extra="ignore")

    mode: Literal["development", "production"] = "production"
    database_url: str = Field(default_factory=database_url)  # CORRIDOR_DATABASE_*
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
    past_max_rebuilds: int = Field(default=2, ge=1, le=64)  # `?at=` rebuilds at once
    past_cache_size: int = Field(default=256, ge=1, le=100_000)  # `?at=` answers cached
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
    whatif_max_jobs: int = Field(default=2, ge=1, le=64)  # waiting or running, all replicas
    whatif_lease_s: float = Field(default=60.0, ge=1.0, le=3600.0)  # a dead owner's jobs fail

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

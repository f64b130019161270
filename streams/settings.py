"""The Kafka boundary's settings: one frozen class, read once from the environment or flags.

Every field can be set with an environment variable named `CORRIDOR_KAFKA_<FIELD>` (for example
`CORRIDOR_KAFKA_BOOTSTRAP_SERVERS=broker:9092`, `CORRIDOR_KAFKA_LATENESS=PT10M`). The SASL
password is a `SecretStr`: it reaches librdkafka and nothing else, and `redacted()` is what logs
show.
"""

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
Membership = Literal["assigned", "group"]
Positive = Annotated[int, Field(ge=1)]
_SECRET_KEYS = ("password", "secret", "key.pem", "keystore")
# librdkafka keys that have a setting of their own, or that the twin's guarantees rest on
# (offsets stored with the outputs, end-of-partition events, nothing skipped or auto-created,
# every write acknowledged): refused in `extra_config`, which overrides the clients' choices
_OWNED_KEYS = {
    "bootstrap.servers": "bootstrap_servers",
    "security.protocol": "security_protocol",
    "client.id": "client_id",
    "group.id": "group_id",
    "sasl.mechanism": "sasl_mechanism",
    "sasl.username": "sasl_username",
    "message.max.bytes": "message_max_bytes",
    "fetch.max.bytes": "fetch_max_bytes",
    "max.partition.fetch.bytes": "fetch_max_bytes",
    "receive.message.max.bytes": "fetch_max_bytes",
    "queued.max.messages.kbytes": "prefetch_kbytes",
}
_FIXED_KEYS = (
    "enable.auto.commit",
    "enable.auto.offset.store",
    "enable.partition.eof",
    "auto.offset.reset",
    "allow.auto.create.topics",
    "partition.assignment.strategy",
    "acks",
)


class KafkaSettings(BaseSettings):
    """Where the topics are, what they are called, and the worker's event-time rules."""

    model_config = SettingsConfigDict(env_prefix="CORRIDOR_KAFKA_", frozen=True, extra="forbid")

    bootstrap_servers: str = "127.0.0.1:9092"
    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    group_id: str = "corridor-twin"
    # "assigned": one worker takes every input partition; "group": the workers with this
    # group_id share them through the broker's group protocol (`streams.rebalance`)
    membership: Membership = "assigned"
    client_id: str = "corridor"

    topic_dispatch: str = "corridor.truck-dispatch"
    topic_reefer: str = "corridor.reefer-telemetry"
    topic_trains: str = "corridor.trains"
    topic_dead_letter: str = "corridor.dead-letter"
    topic_kpi: str = "corridor.kpi"
    topic_alerts: str = "corridor.alerts"  # reefer time-to-breach alerts
    partitions: Positive = 3  # for topics this code creates; a group wants >= yards (scaling.md)
    replication_factor: Positive = 1

    lateness: timedelta = timedelta(minutes=5)  # event time an event may trail the newest one
    kpi_every: timedelta = timedelta(minutes=15)  # event-time cadence of KPI snapshots
    reefer_alert_within: timedelta = timedelta(minutes=60)  # alert: time to breach under this
    batch_size: Annotated[int, Field(ge=1, le=1_000_000)] = 10_000
    poll_timeout_s: Annotated[float, Field(gt=0, le=60)] = 0.2
    quiet_after_s: Annotated[float, Field(ge=0)] = 2.0  # wall time with no input: flush buffer
    # a partition's end is confirmed by a fresh `list_offsets` (`streams.partition_ends`); with
    # no answer (or `end_confirm` off) it is trusted `end_settle_s` after the end event
    end_confirm: bool = True
    end_settle_s: Annotated[float, Field(ge=0)] = 0.5
    # a partition whose newest event time runs further ahead of the slowest partition still
    # delivering is paused until that one catches up (`streams.alignment`); 0: never paused
    max_partition_lead: timedelta = timedelta(minutes=30)
    align_above_held: Annotated[int, Field(ge=0)] = 50_000  # ... while the buffer holds more
    # where the store's commits run: a thread of the worker, or a writer process of its own
    # beside it, off the worker's GIL (`streams.store_writer`; in-memory stores: a thread)
    store_writer: Literal["thread", "process"] = "thread"
    store_writer_from: Annotated[int, Field(ge=0)] = 1_000  # archive entries: smaller, in-thread
    heartbeat_s: Annotated[float, Field(gt=0)] = 30.0  # an idle worker still commits this often
    catchup_kpi_every_s: Annotated[float, Field(ge=0)] = 5.0  # wall time between catch-up KPIs
    member_kpi_every_max: timedelta | None = None  # a member's KPIs at most this far apart
    twin_snapshot_every: timedelta = timedelta(hours=6)  # event time between stored twin states
    twin_snapshot_wall_s: Annotated[float, Field(gt=0)] = 600.0  # or this much wall time
    twin_snapshots_kept: Annotated[int, Field(ge=1, le=1000)] = 8  # the newest stored twin states
    # a worker whose broker does not answer this long exits (`streams.broker_outage`); 0: never
    broker_lost_exit_s: Annotated[float, Field(ge=0)] = 600.0
    # after SIGTERM/SIGINT the worker is gone within this, broker or not (`streams.stopping`)
    stop_within_s: Annotated[float, Field(gt=0, le=600)] = 10.0
    flush_timeout_s: Annotated[float, Field(gt=0)] = 30.0
    max_future_skew: timedelta = timedelta(minutes=15)  # live: event time allowed ahead of now
    message_max_bytes: Annotated[int, Field(ge=65_536, le=1_000_000_000)] = 1_000_000  # produce
    fetch_max_bytes: Annotated[int, Field(ge=65_536, le=1_000_000_000)] = 52_428_800  # consume
    # what the consumer queues ahead of the worker (librdkafka's queued.max.messages.kbytes),
    # and what an alignment pause drops; librdkafka's default (docs/streams.md: a 1 MiB cap
    # cut the broker's CPU but not the catch-up's)
    prefetch_kbytes: Annotated[int, Field(ge=1, le=2_097_151)] = 65_536
    extra_config: dict[str, str] = Field(default_factory=dict)  # more librdkafka settings
    step_trace: Path | None = None  # a file for one timed line per worker step (step_trace.py)

    @model_validator(mode="after")
    def _check(self) -> "KafkaSettings":
        if self.security_protocol.startswith("SASL"):
            if self.sasl_mechanism is None or not self.sasl_username or self.sasl_password is None:
                raise ValueError(
                    f"security_protocol {self.security_protocol} needs sasl_mechanism, "
                    "sasl_username and sasl_password"
                )
        elif self.sasl_mechanism is not None:
            raise ValueError(
                f"sasl_mechanism given but security_protocol is {self.security_protocol}"
            )
        if self.lateness < timedelta(0):
            raise ValueError(f"lateness must not be negative, got {self.lateness}")
        if self.max_future_skew < timedelta(0):
            raise ValueError(f"max_future_skew must not be negative, got {self.max_future_skew}")
        if self.max_partition_lead < timedelta(0):
            raise ValueError(
                f"max_partition_lead must not be negative (0: off), got {self.max_partition_lead}"
            )
        if self.twin_snapshot_every < timedelta(0):
            raise ValueError(
                f"twin_snapshot_every must not be negative (0: off), got {self.twin_snapshot_every}"
            )
        if self.reefer_alert_within < timedelta(0):
            raise ValueError(
                f"reefer_alert_within must not be negative, got {self.reefer_alert_within}"
            )
        if self.kpi_every <= timedelta(0):
            raise ValueError(f"kpi_every must be positive, got {self.kpi_every}")
        if self.member_kpi_every_max is not None and self.member_kpi_every_max < self.kpi_every:
            raise ValueError(
                f"member_kpi_every_max ({self.member_kpi_every_max}) must be at least"
                f" kpi_every ({self.kpi_every})"
            )
        for key in self.extra_config:
            if any(word in key for word in _SECRET_KEYS):
                raise ValueError(f"extra_config: put {key!r} in its own setting, not extra_config")
            if key in _OWNED_KEYS:
                raise ValueError(f"extra_config: {key!r} is set by {_OWNED_KEYS[key]!r}")
            if key in _FIXED_KEYS:
                raise ValueError(f"extra_config: {key!r} is fixed: the twin's guarantees need it")
        return self

    @property
    def input_topics(self) -> tuple[str, str, str]:
        """The three topics the yards publish to."""
        return (self.topic_dispatch, self.topic_reefer, self.topic_trains)

    @property
    def all_topics(self) -> tuple[str, ...]:
        """Input topics, then the dead-letter, KPI and alert topics."""
        return (*self.input_topics, self.topic_dead_letter, self.topic_kpi, self.topic_alerts)

    def client_config(self, **defaults: Any) -> dict[str, Any]:
        """librdkafka settings shared by every client: a fresh dict, the secret in clear.

        `defaults` are a client's own choices; `extra_config` comes after them, so an operator
        can still tune any of them (say `fetch.wait.max.ms`) without a release. Hand the dict
        to a confluent-kafka client and to nothing else (never log it): use `redacted()` to
        show the settings.
        """
        config: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap_servers,
            "security.protocol": self.security_protocol,
            "client.id": self.client_id,
        }
        if self.sasl_mechanism is not None and self.sasl_password is not None:
            config["sasl.mechanism"] = self.sasl_mechanism
            config["sasl.username"] = self.sasl_username
            config["sasl.password"] = self.sasl_password.get_secret_value()
        config.update(defaults)
        config.update(self.extra_config)
        return config

    def redacted(self) -> dict[str, Any]:
        """The settings as plain values with the password masked, for logs and `--help` output."""
        shown = self.model_dump(mode="json")
        if self.sasl_password is not None:
            shown["sasl_password"] = "**********"
        return shown

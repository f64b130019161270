"""The Kafka boundary's settings: from the environment, validated, and never leaking the secret."""

import logging

import pytest
from pydantic import ValidationError

from streams.clients import fetch_limits, make_consumer
from streams.settings import KafkaSettings

SECRET = "s3cr3t-Pa55word-9f2c"


def sasl_settings(monkeypatch: pytest.MonkeyPatch) -> KafkaSettings:
    monkeypatch.setenv("CORRIDOR_KAFKA_BOOTSTRAP_SERVERS", "kafka-1:9093,kafka-2:9093")
    monkeypatch.setenv("CORRIDOR_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("CORRIDOR_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("CORRIDOR_KAFKA_SASL_USERNAME", "twin")
    monkeypatch.setenv("CORRIDOR_KAFKA_SASL_PASSWORD", SECRET)
    monkeypatch.setenv("CORRIDOR_KAFKA_LATENESS", "PT10M")
    monkeypatch.setenv("CORRIDOR_KAFKA_TOPIC_KPI", "brain.kpi")
    return KafkaSettings()


def test_settings_come_from_corridor_kafka_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = sasl_settings(monkeypatch)

    assert settings.bootstrap_servers == "kafka-1:9093,kafka-2:9093"
    assert settings.lateness.total_seconds() == 600
    assert settings.topic_kpi == "brain.kpi"
    assert settings.topic_dispatch == "corridor.truck-dispatch"
    config = settings.client_config()
    assert config["sasl.mechanism"] == "SCRAM-SHA-512"
    assert config["sasl.password"] == SECRET  # for librdkafka only


def test_the_password_never_shows(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    settings = sasl_settings(monkeypatch)
    caplog.set_level(logging.DEBUG)

    logging.getLogger("test").info("settings %s %r %s", settings, settings, settings.redacted())

    shown = [str(settings), repr(settings), settings.model_dump_json(), str(settings.redacted())]
    for text in [*shown, caplog.text]:
        assert SECRET not in text
    assert settings.redacted()["sasl_username"] == "twin"


def test_the_prefetch_cap_reaches_the_consumer(monkeypatch: pytest.MonkeyPatch) -> None:
    assert fetch_limits(KafkaSettings())["queued.max.messages.kbytes"] == 65_536
    monkeypatch.setenv("CORRIDOR_KAFKA_PREFETCH_KBYTES", "512")
    settings = KafkaSettings()

    assert fetch_limits(settings)["queued.max.messages.kbytes"] == 512
    make_consumer(settings).close()  # librdkafka takes it (it refuses what it does not know)


def test_extra_config_overrides_the_clients_own_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "CORRIDOR_KAFKA_EXTRA_CONFIG", '{"fetch.wait.max.ms": "200", "fetch.min.bytes": "4096"}'
    )
    handed: list[dict[str, object]] = []
    monkeypatch.setattr("streams.clients.Consumer", handed.append)

    make_consumer(KafkaSettings())

    assert handed[0]["fetch.wait.max.ms"] == "200"  # not CONSUMER_DEFAULTS' 50
    assert handed[0]["fetch.min.bytes"] == "4096"
    assert handed[0]["enable.auto.commit"] is False  # what it does not name stays


def test_settings_are_frozen() -> None:
    settings = KafkaSettings()
    with pytest.raises(ValidationError):
        settings.group_id = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("given", "complaint"),
    [
        ({"security_protocol": "SASL_SSL"}, "needs sasl_mechanism"),
        ({"sasl_mechanism": "PLAIN"}, "security_protocol is PLAINTEXT"),
        ({"partitions": 0}, "partitions"),
        ({"prefetch_kbytes": 0}, "prefetch_kbytes"),
        ({"lateness": -5}, "lateness"),
        ({"extra_config": {"sasl.password": "x"}}, "its own setting"),
        ({"extra_config": {"fetch.max.bytes": "1048576"}}, "set by 'fetch_max_bytes'"),
        ({"extra_config": {"enable.auto.commit": "true"}}, "'enable.auto.commit' is fixed"),
        ({"extra_config": {"acks": "1"}}, "'acks' is fixed"),
        ({"bootstrap_server": "typo:9092"}, "bootstrap_server"),
    ],
)
def test_bad_settings_are_refused_with_the_field(given: dict[str, object], complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        KafkaSettings(**given)  # type: ignore[arg-type]

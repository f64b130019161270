"""Which topic an event travels on, and its key.

Each event type declares its channel (`corridor.contract.event_types`): train events travel on
the trains topic, dispatch and gate milestones on the dispatch topic, reefer readings on the
telemetry topic. The topic names are configured (`KafkaSettings`); the table below maps every
channel to its setting and is checked against the contract's channels at import, so a new
channel without a topic stops the program at start instead of sending events somewhere else.
Every message is keyed by its yard, so all of one yard's events on a topic land on one
partition, in the order they were produced.
"""

from collections.abc import Callable

from corridor.contract.event_types import CHANNELS, Channel, require_entries
from corridor.contract.events import Event
from streams.settings import KafkaSettings

_TOPIC_SETTING: dict[Channel, Callable[[KafkaSettings], str]] = require_entries(
    {
        "trains": lambda settings: settings.topic_trains,
        "dispatch": lambda settings: settings.topic_dispatch,
        "reefer": lambda settings: settings.topic_reefer,
    },
    CHANNELS,
    "Kafka topic",
    name=str,
)


def channel_topic(channel: Channel, settings: KafkaSettings) -> str:
    """The configured topic of a channel."""
    return _TOPIC_SETTING[channel](settings)


def topic_for(event: Event, settings: KafkaSettings) -> str:
    """The input topic an event belongs on: its type's channel's topic."""
    return _TOPIC_SETTING[event.channel](settings)


def key_for(event: Event) -> bytes:
    """The message key: the yard id."""
    return event.yard.encode("utf-8")

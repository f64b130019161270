"""Which topic an event travels on, and its key.

Dispatch and gate milestones go to the dispatch topic, reefer readings to the telemetry topic,
train events to the trains topic. Every message is keyed by its yard, so all of one yard's
events on a topic land on one partition, in the order they were produced.
"""

from corridor.contract.events import (
    Event,
    ReeferReading,
    TrainArrived,
    TrainDeparted,
    TrainScheduled,
)
from streams.settings import KafkaSettings


def topic_for(event: Event, settings: KafkaSettings) -> str:
    """The input topic an event belongs on."""
    if isinstance(event, ReeferReading):
        return settings.topic_reefer
    if isinstance(event, TrainScheduled | TrainArrived | TrainDeparted):
        return settings.topic_trains
    return settings.topic_dispatch


def key_for(event: Event) -> bytes:
    """The message key: the yard id."""
    return event.yard.encode("utf-8")

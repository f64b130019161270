"""Which topic an event travels on, and its key.

Dispatch and gate milestones go to the dispatch topic, reefer readings to the telemetry topic,
train events to the trains topic. Every message is keyed by its yard, so all of one yard's
events on a topic land on one partition, in the order they were produced.
"""

from corridor.events import Event, ReeferReading, TrainArrived, TrainDeparted, TrainScheduled
from streams.settings import KafkaSettings


def topic_for(event: Event, settings: KafkaSettings) -> str:
    """The input topic an event belongs on."""
    if isinstance(event, ReeferReading):
        return settings.topic_reefer
    if isinstance(event, TrainScheduled | TrainArrived | TrainDeparted):
        return settings.topic_trains
    return settings.topic_dispatch


def tie_rank(event: Event) -> int:
    """Order of events of one yard at the same instant: trains, then trucks, then readings.

    One rank per topic, so the order never depends on how a consumer interleaved the topics;
    and it reads well in the yard: boxes a train brings are there for a truck or a reading
    stamped the same second.
    """
    if isinstance(event, ReeferReading):
        return 2
    if isinstance(event, TrainScheduled | TrainArrived | TrainDeparted):
        return 0
    return 1


def key_for(event: Event) -> bytes:
    """The message key: the yard id."""
    return event.yard.encode("utf-8")

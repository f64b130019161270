"""The registry of event types: every type has its struct, channel (topic), rank and handler,
they agree, and a missing one stops the program at import, naming what is missing."""

import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import ClassVar

import pytest

from corridor.contract import event_types
from corridor.contract.event_types import (
    CHANNELS,
    EVENT_TYPES,
    Channel,
    EventBase,
    EventRegistryError,
    TruckGateIn,
    check_event_types,
    require_entries,
    require_every_type,
    type_name,
)
from corridor.contract.events import DecodeError, Event, decode_event, same_instant_rank
from corridor.engine import yard_events
from streams.settings import KafkaSettings
from streams.topics import channel_topic, topic_for

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "events.md"


def doc_examples() -> dict[type[EventBase], Event]:
    """One decoded event per type, from the JSON examples of docs/events.md."""
    blocks = re.findall(r"```json\n(.*?)```", DOC.read_text("utf-8"), flags=re.DOTALL)
    decoded = [decode_event(block.strip()) for block in blocks]
    return {type(event): event for event in decoded if not isinstance(event, DecodeError)}


def test_every_type_has_a_struct_a_channel_a_rank_and_a_handler() -> None:
    handlers = yard_events._HANDLERS
    for kind in EVENT_TYPES:
        assert issubclass(kind, EventBase)
        assert re.fullmatch(r"[a-z]+\.[a-z_]+", type_name(kind)), kind
        assert kind.channel in CHANNELS, kind
        assert isinstance(kind.rank, int), kind
        assert callable(handlers[kind]), kind
    assert set(handlers) == set(EVENT_TYPES)
    assert len({type_name(kind) for kind in EVENT_TYPES}) == len(EVENT_TYPES)


def test_every_type_travels_on_its_channels_topic() -> None:
    settings = KafkaSettings()
    examples = doc_examples()
    assert set(examples) == set(EVENT_TYPES)
    topics = {channel: channel_topic(channel, settings) for channel in CHANNELS}
    assert sorted(topics.values()) == sorted(settings.input_topics)  # one topic per channel
    for kind, event in examples.items():
        assert topic_for(event, settings) == topics[kind.channel]
        assert same_instant_rank(event) == kind.rank


def test_ranks_agree_with_channels_one_rank_per_channel_in_channel_order() -> None:
    rank_of = {kind.channel: kind.rank for kind in EVENT_TYPES}
    assert all(rank_of[kind.channel] == kind.rank for kind in EVENT_TYPES)
    assert [rank_of[channel] for channel in CHANNELS] == sorted(set(rank_of.values()))
    assert set(rank_of) == set(CHANNELS)  # every channel carries at least one type


def test_a_missing_handler_is_an_error_naming_the_type() -> None:
    partial = dict(yard_events._HANDLERS)
    del partial[TruckGateIn]
    with pytest.raises(EventRegistryError, match=r"yard event handler: missing for truck\.gate_in"):
        require_every_type(partial, "yard event handler")


def test_a_channel_without_a_topic_is_an_error_naming_the_channel() -> None:
    topics: dict[Channel, str] = {"trains": "t", "dispatch": "d"}
    with pytest.raises(EventRegistryError, match="Kafka topic: missing for reefer"):
        require_entries(topics, CHANNELS, "Kafka topic", str)


def test_types_that_disagree_are_refused_with_every_problem_named() -> None:
    class Unlisted(EventBase, tag="truck.weighed", frozen=True):
        channel: ClassVar[Channel] = "dispatch"
        rank: ClassVar[int] = event_types.TRUCKS_NEXT

    class WrongRank(EventBase, tag="train.shunted", frozen=True):
        channel: ClassVar[Channel] = "trains"
        rank: ClassVar[int] = event_types.READINGS_LAST

    class NoChannel(EventBase, tag="gate.closed", frozen=True):
        rank: ClassVar[int] = 7

    check_event_types(EVENT_TYPES, EVENT_TYPES)  # the real registry agrees
    with pytest.raises(EventRegistryError) as raised:
        check_event_types([*EVENT_TYPES, WrongRank, NoChannel], [Unlisted])
    message = str(raised.value)
    assert "Unlisted is not in the Event union" in message
    assert "channel 'trains' has several ranks" in message
    assert "NoChannel declares no channel" in message
    assert "two channels share a same-instant rank" in message


def _import_after(patch: str, module: str) -> subprocess.CompletedProcess[str]:
    """Import `module` in a fresh interpreter after patching the contract's registry."""
    code = textwrap.dedent(patch) + f"\nimport {module}\n"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_a_new_event_type_without_a_handler_stops_the_engine_at_import() -> None:
    done = _import_after(
        """
        from typing import ClassVar
        from corridor.contract import event_types as registry

        class TruckWeighed(registry.EventBase, tag="truck.weighed", frozen=True):
            channel: ClassVar[registry.Channel] = "dispatch"
            rank: ClassVar[int] = registry.TRUCKS_NEXT
            truck_id: str

        registry.EVENT_TYPES = (*registry.EVENT_TYPES, TruckWeighed)
        """,
        "corridor.engine.yard_events",
    )
    assert done.returncode != 0
    assert "EventRegistryError: yard event handler: missing for truck.weighed" in done.stderr


def test_a_new_channel_without_a_topic_stops_the_kafka_edge_at_import() -> None:
    done = _import_after(
        """
        from corridor.contract import event_types as registry
        registry.CHANNELS = (*registry.CHANNELS, "customs")
        """,
        "streams.topics",
    )
    assert done.returncode != 0
    assert "EventRegistryError: Kafka topic: missing for customs" in done.stderr


def test_the_unpatched_modules_import_cleanly() -> None:
    done = _import_after("", "corridor.engine.yard_events, streams.topics")
    assert done.returncode == 0, done.stderr

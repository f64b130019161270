"""Reefer alerts: once per reefer and crossing of the bound, the same however the events are
batched, none repeated after a restart; on the real embedded broker, a worker stopped halfway
and started again sends every alert of an uninterrupted worker, each once.

Hand figures (tests/test_reefer_breach.py): a −18 °C box that loses power in 35 °C air reaches
−16 °C 344.47 min later; one that loses power at −17 °C reaches it after
60 · ln(52 / 51) / 0.0067 = 173.89 min. With a 60 min bound the alert comes 60 min before.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, timedelta

import msgspec
import pytest

from corridor.contract.events import Event, ReeferReading, encode_event
from corridor.store_contract import ArchivedEvent, ArchiveEntry, ClockAdvance
from streams.broker import EmbeddedBroker
from streams.connect import connect_worker
from streams.live.memory_store import MemoryStore
from streams.live.reefer_alerts import ReeferAlert, ReeferAlerts
from streams.live.reorder import to_micros
from streams.live.twin import LiveTwin
from streams.publish import publish
from streams.settings import KafkaSettings
from tests.broker_fixtures import SEED, generated_day, settings_for, stations, topic_messages
from tests.factories import at, box_number, dispatch, reading
from tests.test_reefer_breach import hot_yuzui

EVERY = to_micros(at(15.0)) - to_micros(at(0.0))  # decided every 15 min of event time
BOX = box_number(7)
EVENTS: list[tuple[float, Event]] = [  # (admitted before the advance past this minute, event)
    (0.0, dispatch(7, ts=0.0, eta=5.0, iso_type="45R1", container=BOX, setpoint_c=-18)),
    (100.0, reading(BOX, ts=100.0, setpoint=-18.0, supply=-18.0, power="off")),
    (520.0, reading(BOX, ts=520.0, setpoint=-18.0, supply=-17.0)),  # power back: re-armed
    (600.0, reading(BOX, ts=600.0, setpoint=-18.0, supply=-17.0, power="off")),
]
FIRST = (at(384.47), at(444.47))  # (crossed_at, breach_at) of the first loss of power
SECOND = (at(713.89), at(773.89))


def run(
    advances: Iterable[float], live: LiveTwin | None = None
) -> tuple[LiveTwin, list[ArchiveEntry], list[ReeferAlert]]:
    """Admit each event before the first advance past its time; the archive and the alerts."""
    live = live or LiveTwin(hot_yuzui(), seed=1, alerts=ReeferAlerts(60.0, EVERY))
    archive: list[ArchiveEntry] = []
    alerts: list[ReeferAlert] = []
    for moment in advances:
        for ts, event in EVENTS:
            if ts <= moment and event.event_id not in live.accepted:
                raw = encode_event(event)
                assert live.admit(event, raw) is not None
                archive.append(ArchivedEvent(event.event_id, event.yard, event.ts, raw))
        assert live.advance(to_micros(at(moment))) == []
        archive.append(ClockAdvance(at(moment)))
        alerts += live.take_alerts()
    return live, archive, alerts


def crossings(alerts: list[ReeferAlert]) -> list[tuple[object, ...]]:
    return [(a.container_id, a.crossed_at, a.breach_at) for a in alerts]


def close_to(expected: tuple[object, ...], got: tuple[object, ...]) -> bool:
    return all(
        abs(e - g) < timedelta(seconds=1) for e, g in zip(expected[1:], got[1:], strict=True)
    )  # type: ignore[operator]


def test_one_alert_per_crossing_at_the_hand_worked_moments() -> None:
    _live, _archive, alerts = run([300.0, 400.0, 500.0, 530.0, 700.0, 720.0, 900.0])
    got = crossings(alerts)
    assert len(got) == 2
    assert got[0][0] == got[1][0] == BOX
    assert close_to((BOX, *FIRST), got[0])
    assert close_to((BOX, *SECOND), got[1])
    message = alerts[0].message()
    assert (
        message["seen_at"] == at(390.0).astimezone(UTC).isoformat()
    )  # first boundary after 384.47
    assert message["minutes_to_breach"] == pytest.approx(444.47 - 390.0, abs=0.05)
    assert message["bound_min"] == 60.0
    assert message["alert_id"] == alerts[0].alert_id
    assert message["yard"] == "yuzui"


def test_the_same_alerts_however_the_watermark_moves() -> None:
    _l, _a, coarse = run([390.0, 450.0, 530.0, 760.0])
    _l, _a, fine = run([float(minute) for minute in range(0, 901, 7)])
    _l, _a, at_once = run([900.0])
    assert [a.message() for a in coarse] == [a.message() for a in fine]
    assert [a.message() for a in at_once] == [a.message() for a in fine]
    assert len(coarse) == 2


def test_a_rebuilt_twin_repeats_no_alert_and_sends_the_next() -> None:
    _live, archive, before = run([300.0, 400.0, 500.0])
    assert len(before) == 1
    rebuilt = LiveTwin(hot_yuzui(), seed=1, alerts=ReeferAlerts(60.0, EVERY))
    rebuilt.rebuild(archive)
    assert rebuilt.take_alerts() == []  # decided again in the rebuild, which drops them
    _live, _archive, after = run([530.0, 700.0, 720.0], rebuilt)
    assert len(after) == 1
    assert close_to((BOX, *SECOND), crossings(after)[0])


def test_a_negative_bound_is_refused() -> None:
    with pytest.raises(ValueError, match="bound_min"):
        ReeferAlerts(-1.0, EVERY)
    with pytest.raises(ValueError, match="every"):
        ReeferAlerts(60.0, 0)


def with_excursions(events: list[Event]) -> tuple[list[Event], Counter[str]]:
    """The events, with every fourth reefer over its band for four readings (an hour), twice
    when it reports long enough; and how many episodes each such reefer has."""
    readings: dict[str, list[int]] = defaultdict(list)
    for index, event in enumerate(events):
        if isinstance(event, ReeferReading):
            readings[event.container_id].append(index)
    changed, episodes = list(events), Counter[str]()
    natural = natural_excursions(events)
    chosen = [item for item in sorted(readings.items()) if item[0] not in natural][::4]
    for container, indices in chosen:
        for first in (2, 10):
            if first + 5 >= len(indices):
                break
            episodes[container] += 1
            for index in indices[first : first + 4]:
                reading = events[index]
                assert isinstance(reading, ReeferReading)
                over = reading.setpoint_c + 3.0
                changed[index] = msgspec.structs.replace(reading, supply_c=over)
    return changed, episodes


@pytest.mark.broker
def test_a_worker_restarted_halfway_sends_each_alert_once(broker: EmbeddedBroker) -> None:
    settings = settings_for(broker, batch_size=300)
    events, episodes = with_excursions(generated_day())
    assert sum(episodes.values()) >= 20
    half = len(events) // 2
    publish(events[:half], settings)
    store = MemoryStore()
    first = connect_worker(settings, store, stations(), SEED)
    first.run(idle_exit_s=0.6)
    before = alert_messages(settings)
    assert 0 < len(before) < sum(episodes.values())  # stopped between alerts
    publish(events[half:], settings)
    # stopped without closing, as a crash after a commit (`run` waited for it: no final
    # snapshot, no last flush); what it ran is ended, not left to later tests
    first.commits.close()
    first.consumer.close()
    # a new worker takes over
    second = connect_worker(settings, store, stations(), SEED)
    second.run(idle_exit_s=0.6)
    second.close()

    whole = settings.model_copy(
        update={
            "group_id": settings.group_id + "-whole",
            "topic_alerts": settings.topic_alerts + "-whole",
        }
    )
    uninterrupted = connect_worker(whole, MemoryStore(), stations(), SEED)
    uninterrupted.run(idle_exit_s=0.6)
    uninterrupted.close()

    restarted = alert_messages(settings)
    ids = [message["alert_id"] for message in restarted]
    assert len(ids) == len(set(ids)), "an alert was sent twice"
    alerted = Counter(str(message["container_id"]) for message in restarted)
    assert {box: alerted[box] for box in episodes} == episodes
    assert set(alerted) - set(episodes) <= natural_excursions(events)
    assert sorted(restarted, key=str) == sorted(alert_messages(whole), key=str)


def natural_excursions(events: list[Event]) -> set[str]:
    """Reefers the generated traffic itself puts over their band (about 2 %)."""
    return {
        event.container_id
        for event in events
        if isinstance(event, ReeferReading) and abs(event.supply_c - event.setpoint_c) > 1.0
    }


def alert_messages(settings: KafkaSettings) -> list[dict[str, object]]:
    """Every message on the alert topic."""
    messages = topic_messages(settings, settings.topic_alerts, "alerts")
    return [msgspec.json.decode(message.value() or b"{}") for message in messages]

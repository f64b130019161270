"""`streams.pacing`: when `corridor publish` sends each event, worked out by hand.

The schedule `corridor up` gives its feed: a warm-up at once, a day at one speed, then the live
part at another, never ahead of the wall clock. Times are seconds since the epoch; the clock is
given, so no test sleeps.
"""

import argparse
from datetime import UTC, datetime, timedelta

import pytest

from streams.pacing import PaceStep, Pacing, pace_step, pacing_of

T0 = datetime(2026, 1, 5, tzinfo=UTC)
NOW = T0.timestamp() + 10 * 86_400.0  # the wall clock: ten days after T0


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def test_no_steps_sends_everything_at_once() -> None:
    clock = Pacing().clock()
    assert [clock.due(at(h), NOW) for h in (0, 5, 50)] == [None, None, None]


def test_one_speed_keeps_the_spacing_from_the_first_event() -> None:
    clock = Pacing.uniform(3600.0).clock()
    assert clock.due(at(2), NOW) == NOW  # the schedule starts with the first event
    assert clock.due(at(3), NOW + 0.5) == pytest.approx(NOW + 1.0)  # an hour a second
    assert clock.due(at(5), NOW + 9.0) == pytest.approx(NOW + 3.0)  # late: due in the past


def test_events_before_the_first_step_go_at_once_then_each_step_continues_the_last() -> None:
    pacing = Pacing((PaceStep(at(24), 3600.0), PaceStep(at(48), 60.0)))
    clock = pacing.clock()
    assert clock.due(at(1), NOW) is None
    assert clock.due(at(23.9), NOW) is None
    began = NOW + 4.0  # the warm-up took 4 s; the schedule starts at its step's start then
    assert clock.due(at(24.5), began) == pytest.approx(began + 0.5)
    assert clock.due(at(25.5), began) == pytest.approx(began + 1.5)  # an hour a second
    # the second step starts where 24 h at 3600 end (24 s after the start), then 60x
    assert clock.due(at(48), began) == pytest.approx(began + 24.0)
    assert clock.due(at(49), began) == pytest.approx(began + 24.0 + 60.0)


def test_a_step_with_no_event_in_it_still_counts() -> None:
    clock = Pacing((PaceStep(at(0), 3600.0), PaceStep(at(10), 60.0))).clock()
    assert clock.due(at(0), NOW) == NOW
    assert clock.due(at(11), NOW) == pytest.approx(NOW + 10.0 + 60.0)


def test_not_ahead_of_the_clock_holds_an_event_until_its_time() -> None:
    now = at(100).timestamp()
    pacing = Pacing((PaceStep(at(99), 60.0),), not_ahead_of_clock=True)
    clock = pacing.clock()
    assert clock.due(at(98), now) == at(98).timestamp()  # in the past: at once
    assert clock.due(at(99), now) == pytest.approx(now)
    assert clock.due(at(100), now) == pytest.approx(now + 60.0)  # paced, still before its time
    # 2 h of event time at 60x take 2 min, so the event at 101 h is due at 100 h + 2 min by
    # the pace, but not before the wall clock reads 101 h
    assert clock.due(at(101), now) == pytest.approx(at(101).timestamp())


def test_bad_schedules_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        Pacing((PaceStep(at(0), 0.0),))
    with pytest.raises(ValueError, match="increasing"):
        Pacing((PaceStep(at(5), 60.0), PaceStep(at(1), 60.0)))
    with pytest.raises(ValueError, match="first event"):
        Pacing((PaceStep(at(5), 60.0), PaceStep(None, 60.0)))
    with pytest.raises(ValueError, match="not both"):
        pacing_of(60.0, [PaceStep(at(0), 60.0)], not_ahead_of_clock=False)


def test_a_pace_step_from_the_command_line() -> None:
    assert pace_step("2026-01-05T08:00:00+08:00=60") == PaceStep(
        datetime.fromisoformat("2026-01-05T08:00:00+08:00"), 60.0
    )
    for bad in ("2026-01-05T08:00:00+08:00", "2026-01-05T08:00:00=60", "2026-01-05T08:00Z=x",
                "2026-01-05T08:00:00+08:00=-1"):  # fmt: skip
        with pytest.raises(argparse.ArgumentTypeError):
            pace_step(bad)

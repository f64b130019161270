"""Event times convert to model minutes and to microseconds exactly, whatever their zone."""

import random
from datetime import UTC, datetime, timedelta, timezone

from corridor.engine.clock import epoch_for, in_zone_of, to_minutes
from streams.live.reorder import UNIX_EPOCH, to_micros


def test_conversions_in_the_events_own_zone_equal_the_plain_subtraction() -> None:
    draw = random.Random(6346)
    epoch = epoch_for(datetime(2026, 3, 1, 7, 42, tzinfo=UTC))
    for _ in range(5000):
        zone = timezone(timedelta(minutes=draw.randrange(-14 * 60, 14 * 60 + 1)))
        moment = (epoch + timedelta(microseconds=draw.randrange(-(10**13), 10**13))).astimezone(
            zone
        )
        assert to_minutes(moment, epoch) == (moment - epoch).total_seconds() / 60.0
        assert to_micros(moment) == (moment - UNIX_EPOCH) // timedelta(microseconds=1)


def test_the_reference_is_moved_only_into_another_aware_zone() -> None:
    beijing = timezone(timedelta(hours=8))
    epoch = datetime(2026, 3, 1, tzinfo=UTC)
    assert in_zone_of(datetime(2026, 3, 1, 9, tzinfo=UTC), epoch) is epoch
    assert in_zone_of(datetime(2026, 3, 1, 9), epoch) is epoch  # noqa: DTZ001 - naive on purpose
    moved = in_zone_of(datetime(2026, 3, 1, 9, tzinfo=beijing), epoch)
    assert moved == epoch
    assert moved.tzinfo is beijing

"""The decoder's fast checks decide as the slow ones: the memoised container-number check, the
dispatch's inline checks and the yard set.

The accept path checks every message's container number through a bounded cache
(`corridor.contract.event_types._number_error`): a producer sending millions of distinct ids
must neither grow it without bound nor change a decision, before or after an id was evicted.
"""

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from corridor.contract import event_types
from corridor.contract.container_ids import (
    container_number_error,
    size_type_error,
    with_check_digit,
)
from corridor.contract.event_types import DecodeError, TruckDispatched, time_error
from stations.catalog import forget_catalog, station_id_set, station_ids

SEED = 14
CHINA = timezone(timedelta(hours=8))


@pytest.fixture
def empty_cache() -> Iterator[None]:
    event_types._number_error.cache_clear()
    yield
    event_types._number_error.cache_clear()


def numbers(rng: random.Random, count: int) -> list[str]:
    """Distinct container numbers, about a tenth with a wrong check digit."""
    owners = [f"{a}{b}{c}U" for a in "ABCD" for b in "EFGH" for c in "IJKL"]
    made = []
    for serial in rng.sample(range(1_000_000), count):
        number = with_check_digit(f"{rng.choice(owners)}{serial:06d}")
        if rng.random() < 0.1:
            number = f"{number[:10]}{(int(number[10]) + 1) % 10}"
        made.append(number)
    return made


def test_the_number_cache_is_bounded_however_many_distinct_ids_arrive(empty_cache: None) -> None:
    bound = event_types._number_error.cache_info().maxsize
    assert bound is not None
    assert bound <= 1 << 16
    for number in numbers(random.Random(SEED), bound + 5_000):
        event_types._number_error(number)
    assert event_types._number_error.cache_info().currsize == bound


def test_the_number_cache_decides_as_the_check_before_and_after_eviction(
    empty_cache: None,
) -> None:
    bound = event_types._number_error.cache_info().maxsize
    assert bound is not None
    rng = random.Random(SEED)
    first = numbers(rng, 2_000)
    for number in first:  # cached, some with their error
        assert event_types._number_error(number) == container_number_error(number)
    for number in numbers(rng, bound):  # evicts every one of `first`
        event_types._number_error(number)
    for number in [*first, "CSQU305438", "csqu3054383", "CSQU3054384"]:
        assert event_types._number_error(number) == container_number_error(number)
        assert event_types._number_error(number) == container_number_error(number)  # cached


def chained_problem(event: TruckDispatched) -> DecodeError | None:
    """The dispatch's checks as a chain of the shared helpers (what its inline ones replace)."""
    number = container_number_error(event.container_id)
    size_type = size_type_error(event.iso_type)
    return (
        time_error("eta", event.eta)
        or (DecodeError("container_id", number) if number else None)
        or (DecodeError("iso_type", size_type) if size_type else None)
    )


ETAS = [
    datetime(2026, 1, 5, 9, tzinfo=CHINA),
    datetime(2099, 12, 31, 23, tzinfo=UTC),  # in range, outside the inline fast path
    datetime(2000, 1, 1, 7, tzinfo=CHINA),  # 1999 in UTC: out of range
    datetime(2100, 1, 1, tzinfo=UTC),
]


@pytest.mark.parametrize("eta", ETAS)
@pytest.mark.parametrize("container_id", ["CSQU3054383", "CSQU3054384", "CSQU30543"])
@pytest.mark.parametrize("iso_type", ["45G1", "45g1"])
def test_a_dispatch_is_checked_as_the_chain_in_field_order(
    eta: datetime, container_id: str, iso_type: str
) -> None:
    event = TruckDispatched(
        event_id="d-1",
        ts=datetime(2026, 1, 5, 8, tzinfo=CHINA),
        yard="tuanjiecun",
        truck_id="T-1",
        container_id=container_id,
        iso_type=iso_type,
        direction="export",
        eta=eta,
    )
    assert event.problem() == chained_problem(event)


def test_the_yard_set_follows_the_catalogue() -> None:
    assert station_id_set() == frozenset(station_ids())
    forget_catalog()  # the catalogue read again: the set with it
    assert station_id_set.cache_info().currsize == 0
    assert station_id_set() == frozenset(station_ids())

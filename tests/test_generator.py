"""The traffic generator: deterministic, per-yard independent, and faithful to the specs.

Volume checks are statistical: a count that is Poisson with mean m is accepted within
5 sqrt(m) of m (a 5-sigma band: a correct generator fails about once in 3 million seeds).
"""

import itertools
import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from corridor.contract.container_ids import container_number_error, with_check_digit
from corridor.contract.events import (
    DecodeError,
    Event,
    ReeferReading,
    TrainArrived,
    TrainScheduled,
    TruckDispatched,
    TruckGateIn,
    TruckGateOut,
    decode_event,
    encode_event,
)
from corridor.engine.twin import replay
from corridor.traffic.draws import ContainerNumbers
from corridor.traffic.generator import generate
from stations.spec import StationSpec, load_station

CST = timezone(timedelta(hours=8))
START = datetime(2026, 3, 1, tzinfo=CST)
DAYS = 14
SEED = 11


@pytest.fixture(scope="module")
def fortnight(stations: dict[str, StationSpec]) -> list[Event]:
    return list(generate(stations, days=DAYS, seed=SEED, start=START))


def encoded(events: Iterator[Event] | list[Event]) -> bytes:
    return b"\n".join(encode_event(event) for event in events)


def within_poisson_band(count: float, mean: float) -> bool:
    return abs(count - mean) <= 5 * math.sqrt(mean)


def of_yard(events: list[Event], yard: str, kind: type[Event]) -> list[Event]:
    return [event for event in events if event.yard == yard and isinstance(event, kind)]


def test_same_seed_gives_identical_bytes(stations: dict[str, StationSpec]) -> None:
    first = encoded(generate(stations, days=2, seed=5, start=START))
    second = encoded(generate(stations, days=2, seed=5, start=START))
    assert first == second
    assert first != encoded(generate(stations, days=2, seed=6, start=START))


def test_a_yard_alone_gives_exactly_its_share_of_the_corridor_run(
    stations: dict[str, StationSpec], fortnight: list[Event]
) -> None:
    for yard in stations:
        alone = generate({yard: stations[yard]}, days=DAYS, seed=SEED, start=START)
        assert encoded(alone) == encoded(event for event in fortnight if event.yard == yard)


def test_a_longer_run_extends_a_shorter_one(stations: dict[str, StationSpec]) -> None:
    yards = {"xiaonanya": stations["xiaonanya"]}
    short = encoded(generate(yards, days=3, seed=SEED, start=START))
    longer = list(generate(yards, days=4, seed=SEED, start=START))
    assert encoded(e for e in longer if e.ts < START + timedelta(days=3)) == short


def test_events_are_in_ts_order_within_the_period(fortnight: list[Event]) -> None:
    stamps = [event.ts for event in fortnight]
    assert stamps == sorted(stamps)
    assert stamps[0] >= START
    assert stamps[-1] < START + timedelta(days=DAYS)
    assert len({event.event_id for event in fortnight}) == len(fortnight)


def test_every_event_survives_the_decoder(fortnight: list[Event]) -> None:
    for event in fortnight:
        back = decode_event(encode_event(event))
        assert not isinstance(back, DecodeError), (str(back), encode_event(event))
        assert back == event


def test_export_volume_follows_the_spec(
    stations: dict[str, StationSpec], fortnight: list[Event]
) -> None:
    end = START + timedelta(days=DAYS)
    for yard, spec in stations.items():
        trucks = of_yard(fortnight, yard, TruckDispatched)
        exports = [t for t in trucks if t.direction == "export" and t.eta < end]  # type: ignore[union-attr]
        assert within_poisson_band(len(exports), DAYS * spec.traffic.export_boxes_per_day), yard


def test_import_volume_trains_and_box_mix_follow_the_spec(
    stations: dict[str, StationSpec], fortnight: list[Event]
) -> None:
    for yard, spec in stations.items():
        traffic = spec.traffic
        trains = of_yard(fortnight, yard, TrainArrived)
        assert abs(len(trains) - DAYS * traffic.import_trains_per_day) <= 1, yard
        boxes = [box for train in trains for box in train.boxes]  # type: ignore[union-attr]
        expected_boxes = len(trains) * traffic.import_boxes_per_day / traffic.import_trains_per_day
        assert within_poisson_band(len(boxes), expected_boxes), yard
        reefers = sum(box.setpoint_c is not None for box in boxes)
        forty = sum(box.iso_type[0] == "4" for box in boxes)
        assert within_poisson_band(reefers, len(boxes) * traffic.reefer_share), yard
        assert within_poisson_band(forty, len(boxes) * traffic.forty_foot_share), yard
        assert all(box.iso_type[2] == "R" for box in boxes if box.setpoint_c is not None)


def test_trucks_follow_the_day_night_profile(
    stations: dict[str, StationSpec], fortnight: list[Event]
) -> None:
    spec = stations["tuanjiecun"]
    profile = spec.traffic.hourly_profile
    end = START + timedelta(days=DAYS)
    exports = [
        t
        for t in of_yard(fortnight, "tuanjiecun", TruckDispatched)
        if t.direction == "export" and t.eta < end  # type: ignore[union-attr]
    ]
    by_hour = Counter(t.eta.astimezone(CST).hour for t in exports)  # type: ignore[union-attr]
    for hour in range(24):
        expected = DAYS * spec.traffic.export_boxes_per_day * profile[hour] / sum(profile)
        assert within_poisson_band(by_hour[hour], expected), hour
    assert by_hour[15] > 4 * by_hour[2]


def test_trains_follow_the_timetable(
    stations: dict[str, StationSpec], fortnight: list[Event]
) -> None:
    for yard, spec in stations.items():
        scheduled = of_yard(fortnight, yard, TrainScheduled)
        # every departure of the period and of the day after it, each announced once
        assert len(scheduled) == (DAYS + 1) * len(spec.rail.timetable)
        assert len({t.train_id for t in scheduled}) == len(scheduled)  # type: ignore[union-attr]
        local = {t.departure.astimezone(CST).strftime("%H:%M") for t in scheduled}  # type: ignore[union-attr]
        assert local == {entry.departure for entry in spec.rail.timetable}
        for train in scheduled:
            assert train.ts == max(START, train.departure - timedelta(hours=24))  # type: ignore[union-attr]


def test_every_import_truck_collects_a_box_that_came_by_an_earlier_train(
    fortnight: list[Event],
) -> None:
    arrived: dict[tuple[str, str], datetime] = {}
    pickups = 0
    for event in fortnight:
        if isinstance(event, TrainArrived):
            for box in event.boxes:
                arrived[(event.yard, box.container_id)] = event.ts
        elif isinstance(event, TruckDispatched) and event.direction == "import":
            came = arrived[(event.yard, event.container_id)]
            assert came <= event.ts
            assert event.eta >= came + timedelta(hours=2)
            pickups += 1
    assert pickups > 1000


def test_milestones_follow_their_dispatch_for_the_observed_share(fortnight: list[Event]) -> None:
    eta = {e.truck_id: e.eta for e in fortnight if isinstance(e, TruckDispatched)}
    gate_in = {e.truck_id: e.ts for e in fortnight if isinstance(e, TruckGateIn)}
    gate_out = {e.truck_id: e.ts for e in fortnight if isinstance(e, TruckGateOut)}
    for truck, moment in gate_in.items():
        assert eta[truck] < moment <= eta[truck] + timedelta(minutes=8)
    for truck, moment in gate_out.items():
        assert gate_in[truck] + timedelta(minutes=25) <= moment
    assert within_poisson_band(len(gate_in), 0.2 * len(eta))


def test_every_reading_is_of_a_reefer_surely_in_the_yard(fortnight: list[Event]) -> None:
    windows = _reading_windows(fortnight)
    readings = [e for e in fortnight if isinstance(e, ReeferReading)]
    assert len(readings) > 10_000
    for reading in readings:
        low, high = windows[(reading.yard, reading.container_id)]
        assert low <= reading.ts <= high, encode_event(reading)


def _reading_windows(events: list[Event]) -> dict[tuple[str, str], tuple[datetime, datetime]]:
    """From the log alone: export = [eta + 1 h, earliest cut-off not before eta] (the box may
    catch that train); import = [arrival + 2 h, pickup eta]; the period's end where the log
    stops."""
    far = START + timedelta(days=DAYS + 1)
    cutoffs = defaultdict(list)
    for event in events:
        if isinstance(event, TrainScheduled):
            cutoffs[event.yard].append(event.cutoff)
    windows: dict[tuple[str, str], tuple[datetime, datetime]] = {}
    for event in events:
        if isinstance(event, TrainArrived):
            for box in event.boxes:
                windows[(event.yard, box.container_id)] = (event.ts + timedelta(hours=2), far)
        elif isinstance(event, TruckDispatched) and event.direction == "import":
            low, _ = windows[(event.yard, event.container_id)]
            windows[(event.yard, event.container_id)] = (low, event.eta)
        elif isinstance(event, TruckDispatched) and event.setpoint_c is not None:
            end = min((cut for cut in cutoffs[event.yard] if cut >= event.eta), default=far)
            windows[(event.yard, event.container_id)] = (event.eta + timedelta(hours=1), end)
    return windows


def test_reefers_have_power_cuts_and_excursions(fortnight: list[Event]) -> None:
    readings = [e for e in fortnight if isinstance(e, ReeferReading)]
    off = [r for r in readings if r.power == "off"]
    alarms = [r for r in readings if r.alarms]
    assert off
    assert alarms
    assert all(r.alarms == ["AL20"] and r.supply_c > r.setpoint_c + 3 for r in alarms)
    normal = [r for r in readings if r.power == "on" and not r.alarms]
    assert statistics.fmean(r.supply_c - r.setpoint_c for r in normal) == pytest.approx(0, abs=0.05)
    assert all(r.return_c > r.supply_c for r in normal)
    # unpowered boxes only warm, towards the ambient 28 °C
    assert all(r.setpoint_c - 0.05 <= r.supply_c < 28 for r in off)
    setpoints = {r.setpoint_c for r in readings}
    assert {-18.0, 5.0, 13.0} <= setpoints
    assert setpoints <= {-18.0, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 13.0}


def test_container_numbers_are_valid_and_unique(fortnight: list[Event]) -> None:
    numbers = [e.container_id for e in fortnight if isinstance(e, TruckDispatched)]
    numbers += [b.container_id for e in fortnight if isinstance(e, TrainArrived) for b in e.boxes]
    assert all(container_number_error(n) is None for n in numbers)
    trips = Counter(numbers)
    assert max(trips.values()) <= 2  # an import box: on its train, then on its pickup truck


def test_bulk_check_digits_match_iso_6346() -> None:
    for slot in range(3):
        for number in ContainerNumbers(slot).take(3000):
            assert number == with_check_digit(number[:10])


def test_poisson_mode_gives_exponential_gaps_at_the_asked_rate() -> None:
    yards = {"yuzui": load_station("yuzui")}
    events = list(
        generate(
            yards,
            days=7,
            seed=SEED,
            start=START,
            mode="poisson",
            poisson_trucks_per_hour={"yuzui": 40.0},
        )
    )
    assert all(isinstance(e, TruckDispatched) and e.ts == e.eta for e in events)
    assert {e.iso_type for e in events} == {"22G1"}  # type: ignore[union-attr]
    expected = 7 * 24 * 40.0
    assert within_poisson_band(len(events), expected)
    gaps = [(b.ts - a.ts).total_seconds() / 60 for a, b in itertools.pairwise(events)]
    mean = statistics.fmean(gaps)
    # the mean of n exponential gaps has relative standard error 1/sqrt(n)
    assert abs(mean - 1.5) <= 5 * 1.5 / math.sqrt(len(gaps))
    assert statistics.stdev(gaps) / mean == pytest.approx(1.0, abs=0.05)


def test_progress_reports_each_day_once(stations: dict[str, StationSpec]) -> None:
    seen: list[int] = []
    for _ in generate(stations, days=3, seed=1, start=START, progress=seen.append):
        pass
    assert seen == [1, 2, 3]


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"days": 0}, "days"),
        ({"seed": -1}, "seed"),
        ({"start": datetime(2026, 1, 1)}, "start"),  # noqa: DTZ001 - the naive start under test
        ({"start": datetime(1999, 1, 1, tzinfo=CST)}, "start"),
        ({"observed_share": 1.5}, "observed_share"),
        ({"mode": "poisson"}, "poisson_trucks_per_hour"),
        ({"mode": "bursty"}, "mode"),
    ],
)
def test_bad_arguments_are_refused_up_front(
    stations: dict[str, StationSpec], arguments: dict[str, object], named: str
) -> None:
    settings: dict[str, object] = {"days": 1, "seed": 1, "start": START, **arguments}
    with pytest.raises(ValueError, match=named):
        generate(stations, **settings)  # type: ignore[arg-type]


def test_a_spec_the_generator_cannot_honour_is_refused() -> None:
    spec = load_station("yuzui", {"traffic": {"import_trains_per_day": 0.0}})
    with pytest.raises(ValueError, match=r"yuzui\.traffic\.import_trains_per_day"):
        generate({"yuzui": spec}, days=1, seed=1, start=START)


def test_a_start_off_local_midnight_keeps_the_local_timetable(
    stations: dict[str, StationSpec],
) -> None:
    start = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)  # 08:00 in Chongqing
    events = list(generate({"yuzui": stations["yuzui"]}, days=2, seed=1, start=start))
    scheduled = [e for e in events if isinstance(e, TrainScheduled)]
    timetable = {entry.departure for entry in stations["yuzui"].rail.timetable}
    assert len(timetable) > 1
    assert {t.departure.astimezone(CST).strftime("%H:%M") for t in scheduled} == timetable
    assert all(start <= t.departure < start + timedelta(days=3) for t in scheduled)
    assert min(e.ts for e in events) >= start


def test_the_twin_accepts_every_generated_event(stations: dict[str, StationSpec]) -> None:
    """Readings only while a box is surely stacked, milestones only for dispatched trucks..."""
    events = list(generate(stations, days=4, seed=SEED, start=START))
    twin = replay(events, stations, SEED, until=START + timedelta(days=4))
    assert not twin.counts.rejected
    assert sum(twin.counts.applied.values()) == len(events)

"""A live KPI moment after a week equals the plain computation, at the live worker's pace.

`kpi_outputs` keeps the records' KPI columns between moments (`corridor.kpis.recent_frames`)
and reads the boxes still in the yards off the yards themselves; the oracle
(`tests.snapshot_oracle.full_outputs`) makes every figure from every record the twin holds. A
generated week and a day more (seed fixed), so the 7-day window is full, goes through a live
twin: a moment every 8,000 events on the way, then, over the last events, one every 60, about
as many events as the live worker admits between two KPI moments at 1,000 events a second
(`benchmarks/bench_kpi_moment.py`). At every moment both are compared as JSON bytes: every
scope, window and yard partial.
"""

from corridor.contract.events import encode_event
from streams.live.snapshots import kpi_outputs
from streams.live.twin import LiveTwin
from tests.broker_fixtures import generated_day, stations
from tests.snapshot_oracle import full_outputs
from tests.test_snapshot_oracle import COMPUTED_AT, LATENESS, as_bytes

SEED = 20261201
WEEK_AND_A_DAY = 8
APART_ON_THE_WAY = 8_000  # events between two moments while the week fills
APART_AT_THE_END = 60  # the live worker's pace
MOMENTS_AT_THE_END = 10


def test_a_week_old_live_moment_is_the_full_computation() -> None:
    events = generated_day(days=WEEK_AND_A_DAY, seed=SEED)
    live = LiveTwin(stations(), SEED)
    live_pace_from = len(events) - APART_AT_THE_END * MOMENTS_AT_THE_END
    compared = 0
    for index, event in enumerate(events, 1):
        live.admit(event, encode_event(event))
        apart = APART_ON_THE_WAY if index < live_pace_from else APART_AT_THE_END
        if index % apart or live.newest is None:
            continue
        live.advance(live.newest - LATENESS)
        twin, moment = live.twin, live.watermark
        assert twin is not None
        assert moment is not None
        got = kpi_outputs(live, moment, COMPUTED_AT)
        assert as_bytes(got) == as_bytes(full_outputs(twin, moment, COMPUTED_AT)), index
        compared += 1
        twin.drain()  # as the worker's store takes them
    assert compared >= MOMENTS_AT_THE_END + 3

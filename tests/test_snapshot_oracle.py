"""The live KPI snapshot equals the plain computation over every record, byte for byte.

Hypothesis (derandomized) draws an event stream (generated traffic of a random seed and
length), the moments to snapshot at (the watermark lagging the newest event by the lateness
and a random amount, as a partition late to deliver holds it back), a restart from the live
twin's snapshot (its state encoded, decoded and loaded, as a restarted worker loads it) and
how long records are kept before the twin forgets them (a short retention makes forgetting
happen inside the run and cut into the windows; nine days with the default one forget what
the 7-day window no longer reads). At every moment `kpi_outputs` is compared, as JSON bytes,
with `tests.snapshot_oracle.full_outputs`: every scope and window, and every yard's partial.
Shown to fail when the live records do not move back by what the twin forgot.
"""

import contextlib
import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corridor.contract.events import encode_event
from corridor.store_contract import KpiPartial, KpiSnapshot
from stations.snapshot import SnapshotError
from streams.live import state
from streams.live.reorder import to_micros
from streams.live.snapshots import kpi_outputs
from streams.live.twin import LiveTwin
from tests.broker_fixtures import generated_day, stations
from tests.snapshot_oracle import full_outputs

COMPUTED_AT = datetime(2026, 12, 1, tzinfo=UTC)
LATENESS = to_micros(datetime(1970, 1, 1, 0, 5, tzinfo=UTC))  # 5 minutes
HOUR = 3_600_000_000  # microseconds


def as_bytes(outputs: tuple[list[KpiSnapshot], list[KpiPartial]]) -> list[bytes]:
    snapshots, partials = outputs
    rows: list[Any] = [[s.scope, s.window, s.as_of.isoformat(), s.kpis] for s in snapshots]
    rows += [[p.yard, p.window, p.as_of.isoformat(), p.partial] for p in partials]
    return [json.dumps(row, sort_keys=True, allow_nan=True).encode() for row in rows]


def restarted(live: LiveTwin) -> LiveTwin:
    """The live twin as a restarted worker loads it from its stored snapshot."""
    return LiveTwin.restored(state.decode(state.encode(live.snapshot())), stations())


@st.composite
def runs(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "seed": draw(st.integers(1, 10_000)),
        "days": draw(st.sampled_from([1, 2, 3, 9])),
        "chunk": draw(st.integers(150, 2_500)),  # events between watermark moves
        "lags_h": draw(st.lists(st.floats(0.0, 3.0), min_size=40, max_size=40)),
        "restart_after": draw(st.floats(0.1, 0.8)),  # of the stream: then at the next chance
        "retention_h": draw(st.sampled_from([None, 20, 30, 80, 200])),
    }


@settings(max_examples=10, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
@given(run=runs())
def test_the_live_snapshot_is_the_full_computation(run: dict[str, Any]) -> None:
    events = generated_day(days=run["days"], seed=run["seed"])
    live = LiveTwin(stations(), run["seed"])
    if run["retention_h"] is not None:
        live.retention = run["retention_h"] * HOUR
    compared, restart_due, restarts = 0, int(run["restart_after"] * len(events)), 0
    begin = 0
    for step, begin in enumerate(range(0, len(events), run["chunk"])):
        for event in events[begin : begin + run["chunk"]]:
            live.admit(event, encode_event(event))
        assert live.newest is not None
        # the watermark: behind the newest event by the lateness and a random lag (a partition
        # late to deliver), so the moments fall anywhere in the hour
        live.advance(live.newest - LATENESS - int(run["lags_h"][step % 40] * HOUR))
        if live.twin is None or live.watermark is None:
            continue
        live.twin.drain()  # the worker stores them; drained records may be forgotten
        if begin >= restart_due and not restarts:
            with contextlib.suppress(SnapshotError):  # a train due now: the worker tries later
                live, restarts = restarted(live), 1
        assert live.watermark is not None
        got = kpi_outputs(live, live.watermark, COMPUTED_AT)
        assert live.twin is not None
        want = full_outputs(live.twin, live.watermark, COMPUTED_AT)
        assert as_bytes(got) == as_bytes(want)
        compared += bool(got[0])

    assert compared >= 2
    assert restarts or begin < restart_due + 2 * run["chunk"]  # no chance left: fine
    if run["retention_h"] is not None and run["days"] * 24 > run["retention_h"] + 24:
        assert live.forgotten_before is not None  # the twin forgot records on the way

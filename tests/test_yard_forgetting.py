"""A yard forgets its finished visits' leftovers exactly as a full scan of them would.

`Yard.forget_before` reads the dispatched trucks and the milestones waiting for their pair
from their oldest end only, which is right only while each dict stays in time order; a truck
dispatched again, or a milestone modelled or observed again, is what could break that order
(a dict keeps a key at its first insertion). Against an oracle, the old full scan: after any
sequence of dispatches, milestones and observations at non-decreasing times, the yard keeps
exactly the entries at or after the horizon, and records the same observations unpaired.
A restored yard holds the same, whatever order the snapshot listed its entries in (one of an
older version may list a truck dispatched again at its first place).
"""

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from corridor.engine.yard_events import apply_to_yard
from stations.clock import YardEnvironment
from stations.snapshot import snapshot_yard
from stations.snapshot_restore import restore_yard
from stations.types import Minutes
from stations.yard import Yard
from tests.broker_fixtures import SEED, stations
from tests.factories import T0, dispatch

SUBJECTS = ["truck-1", "truck-2", "truck-3", "train-1"]  # few, so that keys are written again
MILESTONES = ["gate_in", "gate_out"]

step = st.tuples(
    st.sampled_from(["dispatch", "milestone", "observe"]),
    st.sampled_from(SUBJECTS),
    st.sampled_from(MILESTONES),
    st.floats(min_value=0, max_value=30),  # minutes after the previous step
)


def new_yard() -> Yard:
    return Yard(YardEnvironment(), stations()["yuzui"], SEED)


def play(yard: Yard, steps: list[tuple[str, str, str, float]]) -> Minutes:
    """Run the steps at non-decreasing times, as the engine writes them; returns the last.
    (A dispatch goes through the engine's handler, which starts the truck's process; the
    yard's clock is not run, so nothing else happens.)"""
    now = 0.0
    for number, (kind, subject, milestone, gap) in enumerate(steps):
        now += gap
        if kind == "dispatch":
            event = msgspec.structs.replace(dispatch(number, ts=now, eta=now), truck_id=subject)
            assert apply_to_yard(yard, event, now, T0) is None
        elif kind == "milestone":
            yard.milestone(subject, milestone, now)
        else:
            yard.observe(subject, milestone, now)
    return now


Milestone = tuple[str, str]


def oracle(
    yard: Yard, before: Minutes
) -> tuple[dict[str, Minutes], dict[Milestone, Minutes], set[Milestone]]:
    """What the full scan keeps, and the observations it records unpaired."""
    kept_trucks = {t: at for t, at in yard.dispatched_trucks.items() if not at < before}
    kept = {k: at for k, at in {**yard._modelled, **yard._observed}.items() if not at < before}
    unpaired = {key for key, at in yard._observed.items() if at < before}
    return kept_trucks, kept, unpaired


def check_forgets_as_the_full_scan(yard: Yard, before: Minutes) -> None:
    trucks, kept, unpaired = oracle(yard, before)
    recorded = len(yard.records.observations)
    yard.forget_before(before)
    assert yard.dispatched_trucks == trucks
    assert {**yard._modelled, **yard._observed} == kept
    new = yard.records.observations[recorded:]
    assert {(o.subject_id, o.milestone) for o in new} == unpaired
    assert len(new) == len(unpaired)


@settings(max_examples=300, deadline=None)
@given(st.lists(step, max_size=40), st.floats(min_value=0, max_value=1))
def test_forgetting_keeps_what_the_full_scan_keeps(
    steps: list[tuple[str, str, str, float]], share: float
) -> None:
    yard = new_yard()
    last = play(yard, steps)
    check_forgets_as_the_full_scan(yard, share * last)


@settings(max_examples=100, deadline=None)
@given(st.lists(step, max_size=40), st.floats(min_value=0, max_value=1), st.randoms())
def test_a_restored_yard_forgets_alike_whatever_its_snapshots_order(
    steps: list[tuple[str, str, str, float]], share: float, rng: object
) -> None:
    yard = new_yard()
    last = play(yard, steps)
    snapshot = snapshot_yard(yard, SEED)
    names = ("dispatched_trucks", "modelled", "observed")
    shuffled = {name: list(getattr(snapshot, name)) for name in names}
    for entries in shuffled.values():
        rng.shuffle(entries)  # type: ignore[attr-defined]
    restored = restore_yard(msgspec.structs.replace(snapshot, **shuffled), yard.spec)
    check_forgets_as_the_full_scan(restored, share * last)

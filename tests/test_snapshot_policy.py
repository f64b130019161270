"""Which cadence boundaries a group member snapshots: those it crosses on a grid of
`cadence << level`, the level following its event-time pace so that its snapshots are as far
apart in wall time as the single worker's (every boundary live), and grids that nest, so two
members at any levels both take every boundary of the coarser one's grid."""

import itertools
import random
from dataclasses import dataclass, field
from datetime import timedelta
from typing import cast

import pytest

from streams.live.reorder import Micros
from streams.live.twin import LiveTwin
from streams.settings import KafkaSettings
from streams.snapshot_policy import MAX_LEVEL, SnapshotPolicy

HOUR = 3_600_000_000  # micros


@dataclass
class Clock:
    """A wall clock the test moves."""

    now: float = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Twin:
    """The live twin as far as the policy reads it: its watermark."""

    watermark: Micros | None = HOUR // 2
    buffer: object = field(default=None)


@dataclass
class Earliest:
    """A fresh twin's buffer as far as the policy reads it: its earliest held event."""

    at: Micros

    def earliest(self) -> Micros:
        return self.at


@dataclass
class Member:
    """One group member's policy, its wall clock and its twin's watermark."""

    catchup_every_s: float
    clock: Clock = field(default_factory=Clock)
    twin: Twin = field(default_factory=Twin)
    policy: SnapshotPolicy = field(init=False)

    def __post_init__(self) -> None:
        self.policy = SnapshotPolicy(self.catchup_every_s, monotonic=self.clock)

    def batch(self, target: Micros, wall_s: float, cost: float, *, catching_up: bool) -> list[int]:
        """A batch taking the twin to `target` in `wall_s`; the boundaries it snapshots."""
        self.clock.now += wall_s
        live = cast(LiveTwin, self.twin)
        taken = self.policy.boundaries(live, target, HOUR, True, catching_up)
        for moment in taken:
            self.clock.now += cost
            self.policy.taken(moment, cost)
        self.twin.watermark = target
        return taken


def catch_up(
    member: Member, hours: int, wall_per_hour: float, cost: float, per_batch: int = 1
) -> list[int]:
    """Batches of `per_batch` hours of event time, `wall_per_hour` each; the boundaries taken."""
    taken: list[int] = []
    start = cast(int, member.twin.watermark)
    for hour in range(per_batch, hours + 1, per_batch):
        target = start + hour * HOUR
        taken += member.batch(target, wall_per_hour * per_batch, cost, catching_up=True)
    return taken


def test_live_a_member_takes_every_boundary() -> None:
    member = Member(catchup_every_s=5.0)
    for hour in range(1, 50):  # an hour of event time each quarter of an hour of wall time
        taken = member.batch(hour * HOUR + HOUR // 2, 900.0, 0.2, catching_up=False)
        assert taken == [hour * HOUR]


def test_catching_up_a_member_thins_its_snapshots_like_the_single_worker() -> None:
    member = Member(catchup_every_s=5.0)
    taken = catch_up(member, hours=2000, wall_per_hour=0.1, cost=0.05, per_batch=3)
    # 200 s of wall time: a snapshot every 5 to 10 s once the pace is known, not 2000
    assert 15 <= len(taken) <= 45, len(taken)
    assert taken[0] == 2 * HOUR  # the first batch (no pace yet): on the grid its 3 hours allow
    gaps = {b - a for a, b in itertools.pairwise(taken[1:])}
    assert gaps == {64 * HOUR}, gaps  # 50 hours in 5 s: the grid of 64 hours
    assert all(moment % (64 * HOUR) == 0 for moment in taken[1:])


def test_a_batch_crossing_many_boundaries_takes_one_or_two_like_the_single_worker() -> None:
    member = Member(catchup_every_s=5.0, twin=Twin(watermark=None, buffer=Earliest(HOUR // 2)))
    taken = member.batch(200 * HOUR + HOUR // 2, 1.0, 0.3, catching_up=False)
    assert taken == [128 * HOUR]  # 200 boundaries crossed: the grid of 128 hours
    taken = member.batch(203 * HOUR + HOUR // 2, 1.0, 0.3, catching_up=False)
    assert len(taken) <= 2, taken


def test_a_costly_snapshot_spaces_them_to_ten_times_its_cost() -> None:
    member = Member(catchup_every_s=0.0)
    taken = catch_up(member, hours=6000, wall_per_hour=0.1, cost=2.0)
    spent = 2.0 * len(taken)
    assert spent <= 0.12 * (6000 * 0.1 + spent), (len(taken), spent)


def test_the_level_falls_again_when_the_member_goes_live() -> None:
    member = Member(catchup_every_s=1.0)
    catch_up(member, hours=500, wall_per_hour=0.01, cost=0.001)
    assert member.policy.level >= 6
    start = cast(int, member.twin.watermark)
    taken = member.batch(start + 2 * HOUR, 7200.0, 0.001, catching_up=False)
    assert taken
    assert member.policy.level == 0


def test_two_members_at_any_levels_share_the_coarser_grid() -> None:
    rng = random.Random(7)
    members = [Member(catchup_every_s=1.0), Member(catchup_every_s=1.0)]
    both = 0
    for hour in range(1, 5000):
        target = hour * HOUR + HOUR // 2
        taken, levels = [], []
        for member in members:  # each at a pace and cost of its own
            catching_up = rng.random() < 0.9
            wall = rng.uniform(0.0, 0.3) if catching_up else rng.uniform(0.0, 3.0)
            taken.append(
                member.batch(target, wall, rng.uniform(0.0, 0.05), catching_up=catching_up)
            )
            levels.append(member.policy.level)
        coarser = HOUR << max(levels)
        moment = hour * HOUR
        assert (moment in taken[0] and moment in taken[1]) == (moment % coarser == 0), hour
        both += moment in taken[0] and moment in taken[1]
    assert both >= 100, both  # the corridor is merged at many moments, not a few


def test_member_kpi_every_max_bounds_the_grid() -> None:
    settings = KafkaSettings(kpi_every=timedelta(hours=1), member_kpi_every_max=timedelta(hours=5))
    member = Member(catchup_every_s=5.0)
    member.policy = SnapshotPolicy.of(settings)
    member.policy.monotonic = member.clock
    taken = catch_up(member, hours=200, wall_per_hour=0.01, cost=0.05, per_batch=1)
    assert member.policy.level == 2  # 4 hours: the largest power of two within 5
    assert {b - a for a, b in itertools.pairwise(taken[1:])} == {4 * HOUR}


def test_without_member_kpi_every_max_the_settings_leave_the_grid_unbounded() -> None:
    # `SnapshotPolicy.of` once read MAX_LEVEL (20) as a bound of 20 cadences: grids of at
    # most 16 h, and a member catching up 42 days took 63 snapshots, 60 % of its time
    member = Member(catchup_every_s=5.0)
    member.policy = SnapshotPolicy.of(KafkaSettings(kpi_every=timedelta(hours=1)))
    member.policy.monotonic = member.clock
    assert member.policy.max_level == MAX_LEVEL
    taken = catch_up(member, hours=2000, wall_per_hour=0.1, cost=0.05, per_batch=3)
    assert {b - a for a, b in itertools.pairwise(taken[1:])} == {64 * HOUR}


def test_member_kpi_every_max_under_the_cadence_is_refused() -> None:
    with pytest.raises(ValueError, match="member_kpi_every_max"):
        KafkaSettings(kpi_every=timedelta(hours=1), member_kpi_every_max=timedelta(minutes=30))

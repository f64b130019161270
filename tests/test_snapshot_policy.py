"""Which cadence boundaries a group member snapshots: every one live; catching up, those on a
grid of `cadence << level` that its snapshots' cost and pace move, and nested grids, so two
members at any levels both take every boundary of the coarser one's grid."""

import random

from streams.snapshot_policy import SnapshotPolicy

HOUR = 3_600_000_000  # micros


class Clock:
    """A wall clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def member(catchup_every_s: float = 5.0) -> tuple[SnapshotPolicy, Clock]:
    clock = Clock()
    return SnapshotPolicy(catchup_every_s, monotonic=clock), clock


def catch_up(
    policy: SnapshotPolicy, clock: Clock, boundaries: int, wall_per_boundary: float, cost: float
) -> dict[int, tuple[bool, int]]:
    """Cross `boundaries` hourly boundaries catching up; boundary -> (taken, level then)."""
    seen = {}
    for hour in range(1, boundaries + 1):
        clock.now += wall_per_boundary
        moment = hour * HOUR
        taken = policy.due(moment, catching_up=True, member_cadence=HOUR)
        if taken:
            clock.now += cost
            policy.taken(moment, cost)
        seen[moment] = (taken, policy.level)
    return seen


def test_live_a_member_takes_every_boundary() -> None:
    policy, clock = member()
    for hour in range(1, 50):
        clock.now += 0.001  # far closer than the catch-up gap
        assert policy.due(hour * HOUR, catching_up=False, member_cadence=HOUR)
        policy.taken(hour * HOUR, 0.01)


def test_catching_up_a_member_thins_its_snapshots_to_a_grid_like_the_single_worker() -> None:
    policy, clock = member(catchup_every_s=5.0)
    seen = catch_up(policy, clock, boundaries=2000, wall_per_boundary=0.1, cost=0.05)
    taken = [moment for moment, (took, _level) in seen.items() if took]
    # 200 s of wall time: one snapshot per 5 to 20 s once the level settled, not 2000
    assert 10 <= len(taken) <= 60, len(taken)
    assert all(moment % (HOUR << level) == 0 for moment, (took, level) in seen.items() if took)
    gaps = [b - a for a, b in zip(taken[-10:], taken[-9:], strict=False)]
    assert all(gap == 64 * HOUR for gap in gaps), gaps  # 6.4 s apart: 2^6 boundaries


def test_a_costly_snapshot_spaces_them_to_ten_times_its_cost() -> None:
    policy, clock = member(catchup_every_s=0.0)
    seen = catch_up(policy, clock, boundaries=6000, wall_per_boundary=0.1, cost=2.0)
    taken = [moment for moment, (took, _level) in seen.items() if took]
    spent = 2.0 * len(taken)
    assert spent <= 0.12 * (6000 * 0.1 + spent), (len(taken), spent)


def test_the_level_falls_again_when_the_member_slows() -> None:
    policy, clock = member(catchup_every_s=1.0)
    catch_up(policy, clock, boundaries=500, wall_per_boundary=0.01, cost=0.001)
    assert policy.level >= 6
    catch_up(policy, clock, boundaries=3000, wall_per_boundary=2.0, cost=0.001)
    assert policy.level == 0


def test_two_members_at_any_levels_share_the_coarser_grid() -> None:
    rng = random.Random(7)
    first, first_clock = member(catchup_every_s=1.0)
    second, second_clock = member(catchup_every_s=1.0)
    both = 0
    for hour in range(1, 5000):
        moment = hour * HOUR
        answers = []
        for policy, clock in ((first, first_clock), (second, second_clock)):
            clock.now += rng.uniform(0.0, 0.3)  # each at a pace of its own
            took = policy.due(moment, catching_up=True, member_cadence=HOUR)
            if took:
                policy.taken(moment, rng.uniform(0.0, 0.05))
            answers.append((took, policy.level))
        (took_first, first_level), (took_second, second_level) = answers
        coarser = HOUR << max(first_level, second_level)
        assert (took_first and took_second) == (moment % coarser == 0), (hour, answers)
        both += took_first and took_second
    assert both >= 100  # the corridor is merged at many moments, not a few

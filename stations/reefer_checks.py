"""Reefer checks before loading: manual rounds, or remote monitoring (冷藏箱数据远程采集).

A reefer export box is checked before it is released to a train: is it powered, is its
temperature at setpoint? With manual rounds a technician walks to every stacked reefer and
reads its controller (`check_min`); a box found with an open excursion (a temperature
excursion or a power-off span, as its readings show) waits for the fix (`response_min`).
With remote monitoring the readings reach the control room every 15 minutes, so a box without
an open excursion needs no visit at all, and one with an excursion is fixed sooner (a shorter
`response_min`: the alarm is raised at once, not at the next round). Only then is the box
cleared for customs and booked. The technicians are a pool of the yard
(`Yard.reefer_technicians`); every figure of the policy is an estimate [E].

Without the policy (today's model) a reefer is cleared as soon as it is stacked: the model
then idealises the check, so the lever is valued against `scenarios/reefer-manual-checks.toml`.
"""

from collections.abc import Callable
from dataclasses import dataclass

import simpy

from stations import actors
from stations.box import Box
from stations.policies import ReeferCheckPolicy
from stations.pool import Claim
from stations.types import ProcessGenerator
from stations.yard import Yard


def needs_visit(policy: ReeferCheckPolicy, box: Box) -> bool:
    """Manual rounds visit every reefer; remote monitoring only one in an open excursion."""
    return policy.mode == "manual" or has_open_excursion(box)


def has_open_excursion(box: Box) -> bool:
    """The box's readings show it off power or out of its temperature band right now."""
    monitor = box.reefer_monitor
    return monitor is not None and (monitor.in_excursion or monitor.off_since is not None)


TECHNICIAN_QUEUE, CHECK, RESPONSE = 1, 2, 3  # the waits of a check (`ReeferCheckProgress`)


@dataclass(slots=True)
class ReeferCheckProgress:
    """A stacked export reefer's check: the wait it is at."""

    box: Box
    stage: int = 0


def check_then_clear(
    yard: Yard,
    policy: ReeferCheckPolicy,
    p: ReeferCheckProgress,
    clear: Callable[[Yard, Box], None],
    resume: simpy.Event | None = None,
) -> ProcessGenerator:
    """Check the stacked reefer (a technician's visit if it needs one), then `clear` it.

    A check restored from a snapshot yields `resume` (what it waited on) and goes on after
    `p.stage`."""
    box = p.box
    if p.stage > 0 or needs_visit(policy, box):
        technicians = yard.reefer_technicians
        assert technicians is not None  # the yard has them whenever the policy is set
        fresh = p.stage < TECHNICIAN_QUEUE
        waiting = resume if p.stage == TECHNICIAN_QUEUE else None
        with technicians.claim() if fresh else Claim(technicians, waiting) as technician:
            if technician is not None:
                p.stage = TECHNICIAN_QUEUE
                yield technician
            if p.stage < CHECK and policy.mode == "manual":
                p.stage = CHECK
                yield yard.env.timeout(yard.sample("reefer_check", policy.check_min))
            elif p.stage == CHECK:
                yield actors.waited(resume)
            if p.stage < RESPONSE and has_open_excursion(box):
                p.stage = RESPONSE
                yield yard.env.timeout(yard.sample("reefer_check", policy.response_min))
            elif p.stage == RESPONSE:
                yield actors.waited(resume)
    clear(yard, box)

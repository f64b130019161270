"""One rail container yard: its SimPy resources, random streams and what it records.

Like SimPy's carwash, the yard is a facility class holding one primitive per physical thing
(gate lanes, the manual exception lane, reach stackers, rail-mounted gantries, stack slots,
reefer plugs, inspection bays, loading tracks); the actors that use them are generator
processes in `trucks`, `boxes` and `rail`. The yard also owns the flat records its actors emit
and the level series (queue lengths, occupancy) that KPIs time-weight.
"""

from dataclasses import dataclass, field
from typing import TypeVar

import simpy

from stations.appointments import AppointmentBook
from stations.box import Box
from stations.clock import YardEnvironment
from stations.distributions import Distribution
from stations.levels import LevelSeries
from stations.loading_plan import BOOKING_ORDERS
from stations.pool import Pool
from stations.random_streams import RandomStream
from stations.records import (
    LEVELS,
    NOT_YET,
    BoxVisit,
    Lift,
    Observation,
    ReadingReceived,
    ReeferExcursion,
    TrainVisit,
    TruckVisit,
)
from stations.spec import StationSpec
from stations.stack import Stack
from stations.timetable import Railway
from stations.types import Minutes

STREAM_PURPOSES = (
    "gate_service",
    "gate_exception",
    "exit",
    "yard_drive",
    "truck_lift",
    "rail_lift",
    "wagon_placement",
    "inspection",
    "reefer_check",
)


@dataclass(slots=True)
class YardRecords:
    """Everything one yard has emitted so far, in emission order."""

    truck_visits: list[TruckVisit] = field(default_factory=list)
    box_visits: list[BoxVisit] = field(default_factory=list)
    lifts: list[Lift] = field(default_factory=list)
    train_visits: list[TrainVisit] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    reefer_excursions: list[ReeferExcursion] = field(default_factory=list)
    reefer_readings: list[ReadingReceived] = field(default_factory=list)


class Yard:
    """The resources, streams, records and levels of one station, on its own SimPy clock."""

    def __init__(
        self, env: YardEnvironment, spec: StationSpec, seed: int, replication: int = 0
    ) -> None:
        self.env = env
        self.spec = spec
        self.gate = Pool(env, spec.gate.lanes)
        self.exception_gate = Pool(env, spec.gate.exception_lanes)
        self.reach_stackers = Pool(env, spec.handling.reach_stackers)
        self.rmgs = Pool(env, spec.handling.rmgs)
        self.stack = Stack(env, spec.stack.capacity_teu)
        self.plugs = simpy.Resource(env, spec.stack.reefer_plugs)
        self.inspection_bays = Pool(env, spec.inspection.bays)
        self.tracks = Pool(env, spec.rail.loading_tracks)
        self.streams: dict[str, RandomStream] = {}
        self.reseed(seed, replication)
        self.records = YardRecords()
        self.levels = {level: LevelSeries() for level in LEVELS}
        self.boxes: dict[str, Box] = {}
        # the boxes in `boxes` with a reefer monitor (a few percent of them): what the reefer
        # alerts scan at every grid boundary, which a scan of every box made a third of the
        # live twin's time (`docs/performance.md`)
        self.monitored: dict[str, Box] = {}
        # of those, the numbers of the ones that may be heading out of their band, kept as
        # readings and plug waits change (`stations.reefer_risk`): what that scan reads
        self.reefers_at_risk: set[str] = set()
        policies = spec.policies
        self.railway = Railway(booking_order=BOOKING_ORDERS[policies.loading_plan])
        self.appointments = (
            AppointmentBook(policies.truck_appointments) if policies.truck_appointments else None
        )
        checks = policies.reefer_checks
        self.reefer_technicians = Pool(env, checks.technicians) if checks else None
        # truck id -> its latest dispatch; this and the milestones waiting for their pair are
        # kept in time order, so that the daily `forget_before` reads only the entries it
        # drops, not the whole of each dict: they are written at the yard's clock, and a key
        # written again is taken out first (a dict keeps a key at its first insertion), here
        # and where trucks are dispatched (`corridor.engine.yard_events`), inline: they are
        # on the engine's path, where a call each cost about twice as much (`docs/performance.md`)
        self.dispatched_trucks: dict[str, Minutes] = {}
        self.awaited_boxes: dict[str, simpy.Event] = {}  # import boxes a truck came for early
        self.inspections_in_progress = 0
        self._modelled: dict[tuple[str, str], Minutes] = {}
        self._observed: dict[tuple[str, str], Minutes] = {}

    @property
    def now(self) -> Minutes:
        return self.env._now  # a float: the clock starts at 0.0 and moves by float delays

    def reseed(self, seed: int, replication: int) -> None:
        """Draw from now on from replication `replication`'s streams of `seed`.

        A forecast or what-if forks the yard at "now" and re-seeds it, so each replication's
        future is independent while its past is the one that happened (`corridor.forecast`).
        """
        self.streams = {
            purpose: RandomStream(seed, self.spec.id, purpose, replication=replication)
            for purpose in STREAM_PURPOSES
        }

    def resize(self, spec: StationSpec) -> None:
        """Run under `spec` from now on: the pools take its counts at once, process times and
        policies apply from the next draw. Stack room, plugs and policies with state of their
        own (appointments, reefer checks, the loading plan) cannot change on a running yard."""
        fixed = (
            (spec.stack, self.spec.stack, "stack"),
            (spec.policies, self.spec.policies, "policies"),
        )
        for new, old, section in fixed:
            if new != old:
                raise ValueError(f"{spec.id}.{section}: cannot change on a running yard")
        self.gate.resize(spec.gate.lanes)
        self.exception_gate.resize(spec.gate.exception_lanes)
        self.reach_stackers.resize(spec.handling.reach_stackers)
        self.rmgs.resize(spec.handling.rmgs)
        self.inspection_bays.resize(spec.inspection.bays)
        self.tracks.resize(spec.rail.loading_tracks)
        self.spec = spec

    def level(self, name: str, delta: float) -> None:
        """Record a change of one of the yard's levels at the current time."""
        self.levels[name].change(self.env._now, delta)

    def sample(self, purpose: str, distribution: Distribution) -> float:
        """One draw of a process time from the named stream."""
        return distribution.sample(self.streams[purpose])

    def milestone(self, subject_id: str, milestone: str, time: Minutes) -> None:
        """The model reached a milestone at `time` (the yard's clock); pair it with its
        observation if one came first."""
        key = (subject_id, milestone)
        observed = self._observed.pop(key, None)
        if observed is None:
            modelled = self._modelled
            modelled.pop(key, None)  # modelled again: to the newest end (`forget_before`)
            modelled[key] = time
        else:
            self._record_observation(key, observed, time)

    def observe(self, subject_id: str, milestone: str, observed: Minutes) -> None:
        """A milestone was observed at `observed` (no earlier than the last observation);
        recorded beside the model's time once both are known."""
        key = (subject_id, milestone)
        modelled = self._modelled.pop(key, None)
        if modelled is None:
            waiting = self._observed
            waiting.pop(key, None)  # observed again: to the newest end (`forget_before`)
            waiting[key] = observed
        else:
            self._record_observation(key, observed, modelled)

    def forget_before(self, before: Minutes) -> None:
        """Forget what finished visits left behind before `before` (a long-running twin).

        Trucks dispatched before it are no longer known (a gate milestone for one is refused
        as for a truck never dispatched); a modelled milestone never observed by then is dropped,
        and an observation the model has not reached by then is recorded unpaired (`modelled`
        NaN, as `unpaired_observations` would show it) so that it reaches the store; departed
        trains leave the timetable's memory. Boxes in the yard, trucks waiting for one, and
        trains still to leave are untouched.
        """
        trucks = self.dispatched_trucks
        for truck in _leading_before(trucks, before):
            del trucks[truck]
        modelled = self._modelled
        for key in _leading_before(modelled, before):
            del modelled[key]
        observed = self._observed
        for key in _leading_before(observed, before):
            self._record_observation(key, observed.pop(key), NOT_YET)
        known = self.railway.known
        for train in [train for train, plan in known.items() if plan.departed < before]:
            del known[train]

    def unpaired_observations(self) -> list[Observation]:
        """Observations the model has not reached (yet): their modelled time is NaN."""
        return [
            Observation(self.spec.id, subject, milestone, observed, NOT_YET)
            for (subject, milestone), observed in self._observed.items()
        ]

    def _record_observation(
        self, key: tuple[str, str], observed: Minutes, modelled: Minutes
    ) -> None:
        subject, milestone = key
        self.records.observations.append(
            Observation(self.spec.id, subject, milestone, observed, modelled)
        )


Key = TypeVar("Key")


def _leading_before(times: dict[Key, Minutes], before: Minutes) -> list[Key]:
    """The keys of `times`, which is in time order (see `Yard.__init__`), with a time before
    `before`: its leading ones. (An entry out of that order is merely kept longer, as a
    record is by `corridor.engine.retention`.)"""
    leading = []
    for key, at in times.items():
        if not at < before:  # (a NaN time, never written, would stop it here: kept)
            break
        leading.append(key)
    return leading

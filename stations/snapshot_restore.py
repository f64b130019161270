"""Load a yard snapshot (`stations.snapshot_format`) into a running yard.

The yard is built new from its spec, then given the snapshot's state: boxes, railway, levels,
records, random streams, servers in use. The waits are recreated in their original order
(timers in the event queue's order, each line in its order, waiters of one event in theirs),
so the restored yard's future is the snapshotted one's to the byte. Then every actor's
generator is started at its stage with the event it waits on (`resume`): the same code that
runs a fresh actor. A spec other than the snapshot's (a what-if: one more reach stacker) is
taken as it is; servers it adds go to those waiting at once.
"""

import operator
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from sys import byteorder

import simpy
from simpy.events import PENDING
from simpy.resources.resource import Request

from stations import actors, boxes, rail, reefer_checks, reefer_risk, trucks
from stations.box import Box
from stations.clock import YardEnvironment
from stations.reefers import Reading, ReeferMonitor
from stations.snapshot import SnapshotError, pools_of, spec_digest
from stations.snapshot_format import (
    ActorState,
    BoxState,
    GantryState,
    LevelState,
    TrainState,
    TruckState,
    WaitRef,
    YardSnapshot,
)
from stations.spec import StationSpec
from stations.timetable import TrainPlan
from stations.yard import Yard

Start = Callable[[simpy.Event], None]
"""Starts one restored actor, given the event it waits on."""


_TIME = operator.itemgetter(-1)
"""The time of a dispatched truck's or a milestone's snapshot entry (its last field)."""


def restore_yard(
    snapshot: YardSnapshot,
    spec: StationSpec,
    *,
    replication: int | None = None,
    spec_may_differ: bool = False,
) -> Yard:
    """A running yard in the snapshot's state, under `spec`.

    `spec` must be the snapshot's (same digest) unless `spec_may_differ` (a what-if).
    `replication` None continues the snapshot's random streams exactly; a number gives the
    yard fresh streams of that replication (`stations.random_streams`), as a fork does.
    """
    if snapshot.yard != spec.id:
        raise SnapshotError(f"snapshot of yard {snapshot.yard!r} given the spec of {spec.id!r}")
    if not spec_may_differ and snapshot.spec_digest != spec_digest(spec):
        raise SnapshotError(
            f"snapshot of {spec.id} was taken under another spec ({snapshot.spec_digest}); "
            "restore it under that spec, or as a what-if"
        )
    fresh_streams = replication is not None
    env = YardEnvironment(snapshot.now)
    yard = Yard(
        env, spec, snapshot.seed, snapshot.replication if replication is None else replication
    )
    try:
        _restore_state(yard, snapshot, fresh_streams)
        _restore_actors(yard, snapshot)
    except KeyError as missing:
        raise SnapshotError(f"snapshot of {spec.id} is inconsistent: {missing} unknown") from None
    _serve_added_capacity(yard)
    yard.reefers_at_risk = reefer_risk.rebuilt(yard)  # not in the snapshot: worked out again
    return yard


def _restore_state(yard: Yard, s: YardSnapshot, fresh_streams: bool) -> None:
    for state in s.boxes:
        box = yard.boxes[state.container_id] = _box(yard, state)
        if box.reefer_monitor is not None:
            yard.monitored[state.container_id] = box
    _restore_plugs(yard, s)
    railway, found = yard.railway, yard.boxes
    for plan in s.railway.known:
        railway.known[plan.train_id] = TrainPlan(
            plan.train_id,
            plan.departure,
            plan.cutoff,
            plan.capacity_teu,
            plan.destination,
            [found[c] for c in plan.booked],
            plan.booked_teu,
            plan.departed,
        )
    railway.plans = [railway.known[train] for train in s.railway.plans]
    railway.waiting = deque(found[c] for c in s.railway.waiting)
    railway.held = {train: [found[c] for c in held] for train, held in s.railway.held}
    if s.appointments is not None and yard.appointments is not None:
        yard.appointments.booked = dict(s.appointments)
    # in time order, as `Yard.forget_before` reads them (a snapshot of an older version may
    # hold a key written again at its first place); a stable sort keeps a newer one's order
    yard.dispatched_trucks = dict(sorted(s.dispatched_trucks, key=_TIME))
    yard.inspections_in_progress = s.inspections_in_progress
    yard._modelled = {
        (subject, milestone): t for subject, milestone, t in sorted(s.modelled, key=_TIME)
    }
    yard._observed = {
        (subject, milestone): t for subject, milestone, t in sorted(s.observed, key=_TIME)
    }
    if not fresh_streams:
        for stream in s.streams:
            yard.streams[stream.purpose].set_plain_state(
                stream.state,
                stream.uniform_from,
                stream.uniform_left,
                stream.normal_from,
                stream.normal_left,
            )
    for level in s.levels:
        _restore_level(yard, level)
    for name in s.records.__struct_fields__:
        setattr(yard.records, name, list(getattr(s.records, name)))
    for name, pool in pools_of(yard).items():
        pool.busy = s.busy.get(name, 0)
    yard.stack.level = s.stack_level


def _box(yard: Yard, s: BoxState) -> Box:
    box = Box(
        s.container_id,
        s.direction,
        s.teu,
        s.reefer,
        s.entered,
        s.stacked,
        s.inspection_start,
        s.cleared,
        s.loading_start,
        s.train_id,
        s.booked_on,
        s.inspected,
        s.plug_wait_min,
    )
    if s.in_stack:
        box.in_stack = yard.env.event()
        if s.in_stack == "done":  # triggered and processed long ago
            box.in_stack._ok, box.in_stack._value, box.in_stack.callbacks = True, None, None  # type: ignore[assignment]
    if s.monitor is not None:
        m = s.monitor
        monitor = ReeferMonitor(yard.spec.id, s.container_id, m.setpoint_c, yard.spec.reefer)
        monitor.last = None if m.last is None else Reading(*m.last)
        monitor.off_since, monitor._above_since = m.off_since, m.above_since
        monitor._excursion_since, monitor._peak = m.excursion_since, m.peak
        monitor.settle()
        box.reefer_monitor = monitor
    return box


def _restore_plugs(yard: Yard, s: YardSnapshot) -> None:
    """Plugs in use (granted requests) and the line for them, in its order."""
    plugs = yard.plugs
    waiting = []
    for state in s.boxes:
        if state.plug == "holding":
            request = _request(plugs, granted=True)
            request.usage_since = state.plug_since
            plugs.users.append(request)
            yard.boxes[state.container_id].plug_request = request
        elif state.plug == "waiting":
            waiting.append((state.plug_rank, state.container_id))
    for _, container_id in sorted(waiting):
        request = _request(plugs, granted=False)
        plugs.put_queue.append(request)
        yard.boxes[container_id].plug_request = request


def _request(plugs: simpy.Resource, granted: bool) -> Request:
    """A plug request as `Request` leaves it, made without asking the resource again."""
    request: Request = object.__new__(Request)
    request.env = plugs._env
    request.resource = plugs
    request.proc = None
    if granted:
        request.callbacks = None  # type: ignore[assignment]
        request._ok, request._value = True, None
    else:
        request.callbacks = [plugs._trigger_get]
        request._value = PENDING
    return request


def _restore_level(yard: Yard, s: LevelState) -> None:
    series = yard.levels[s.name]
    for name, raw in (("times", s.times), ("values", s.values)):
        column = getattr(series, name)
        del column[:]
        column.frombytes(raw)
        if byteorder != "little":
            column.byteswap()
    series.value = s.value


@dataclass(slots=True)
class _Waiter:
    """An actor to restore: what it waits on, how to start it on that event, its event."""

    wait: WaitRef
    start: Start
    teu: int = 0  # in the stack's line: the TEU it waits to reserve
    event: simpy.Event | None = None


def _restore_actors(yard: Yard, s: YardSnapshot) -> None:
    """Recreate every wait in its order, then start every actor on its wait."""
    waiters = [_truck(yard, truck) for truck in s.trucks]
    waiters += [_box_actor(yard, actor) for actor in s.actors]
    for box in yard.boxes.values():
        request = box.plug_request
        if request is not None and not request.triggered:
            waiters.append(_plug_waiter(yard, box, request))
    gantries: dict[str, list[simpy.Process]] = {}
    working: list[rail.TrainWork] = []
    for train in s.trains:
        work = _train_work(yard, train)
        for gantry in train.gantries:
            waiters.append(_gantry(yard, work, gantry, gantries.setdefault(work.train_id, [])))
        if train.wait.kind == "gantries":
            working.append(work)
        else:
            waiters.append(_Waiter(train.wait, _train_start(yard, work)))
    for container_id in s.awaited_boxes:
        yard.awaited_boxes[container_id] = yard.env.event()
    _make_waits(yard, waiters)
    waiters.sort(key=lambda w: (w.wait.kind, w.wait.key, w.wait.rank))
    for waiter in waiters:  # waiters on one event attach in their order
        assert waiter.event is not None
        waiter.start(waiter.event)
    for work in working:
        _train_start(yard, work)(simpy.AllOf(yard.env, gantries.get(work.train_id, [])))


def _make_waits(yard: Yard, waiters: list[_Waiter]) -> None:
    """The event each waiter waits on, made in the original order of its kind."""
    env, pools = yard.env, pools_of(yard)
    for waiter in sorted(waiters, key=lambda w: (w.wait.kind, w.wait.key, w.wait.rank)):
        wait = waiter.wait
        if wait.kind == "timer":
            waiter.event = env.timeout_at(wait.time)
        elif wait.kind == "pool":
            waiter.event = env.event()
            pools[wait.key].waiting.append(waiter.event)
        elif wait.kind == "stack":
            waiter.event = env.event()
            yard.stack.waiting.append((waiter.teu, waiter.event))
        elif wait.kind == "awaited":
            waiter.event = yard.awaited_boxes[wait.key]
        elif wait.kind == "in_stack":
            waiter.event = yard.boxes[wait.key].in_stack
        elif wait.kind != "plug":  # a plug waiter comes with its request
            raise SnapshotError(f"unknown wait {wait.kind!r}")


def _truck(yard: Yard, state: TruckState) -> _Waiter:
    if state.stage not in trucks.STAGES:
        raise SnapshotError(f"unknown truck stage {state.stage!r}")
    progress = trucks.TruckProgress(
        trucks.TruckOrder(*state.order),
        trucks.STAGES.index(state.stage),
        state.exception_lane,
        state.arrived,
        state.gate_start,
        state.gate_end,
        state.lift_start,
        state.lift_end,
    )

    def start(event: simpy.Event) -> None:
        actors.start(trucks.truck_visit(yard, progress, event), progress)

    return _Waiter(state.wait, start, progress.order.teu)


def _box_actor(yard: Yard, state: ActorState) -> _Waiter:
    box = yard.boxes[state.container_id]
    if state.kind == "inspection":
        held = boxes.InspectionProgress(box, state.duration, state.stage)
        return _Waiter(
            state.wait, lambda event: actors.start(boxes.inspect(yard, held, event), held)
        )
    policy = yard.spec.policies.reefer_checks
    if policy is None:
        raise SnapshotError("a reefer check in flight, and a spec without reefer checks")
    check = reefer_checks.ReeferCheckProgress(box, state.stage)

    def start(event: simpy.Event) -> None:
        clear = boxes.clear_for_departure
        actors.start(reefer_checks.check_then_clear(yard, policy, check, clear, event), check)

    return _Waiter(state.wait, start)


def _plug_waiter(yard: Yard, box: Box, request: Request) -> _Waiter:
    def start(event: simpy.Event) -> None:
        actors.start(boxes.hold_plug(yard, box, event), box)

    return _Waiter(WaitRef("plug", rank=0), start, event=request)


def _gantry(
    yard: Yard, work: rail.TrainWork, state: GantryState, started: list[simpy.Process]
) -> _Waiter:
    box = yard.boxes[state.container_id]
    progress = rail.GantryProgress(work, box, state.stage, state.start)

    def start(event: simpy.Event) -> None:
        started.append(rail.start_gantry(yard, progress, event))

    return _Waiter(state.wait, start, box.teu)


def _train_work(yard: Yard, state: TrainState) -> rail.TrainWork:
    found = yard.boxes
    return rail.TrainWork(
        state.train_id,
        state.direction,
        yard.railway.known[state.train_id] if state.direction == "export" else None,
        [found[c] for c in state.unloading],
        state.boxes,
        state.teu,
        state.arrived,
        state.stage,
        state.work_start,
        state.work_end,
        deque(found[c] for c in state.queue),
    )


def _train_start(yard: Yard, work: rail.TrainWork) -> Start:
    def start(event: simpy.Event) -> None:
        if work.direction == "export":
            generator = rail.load_train(yard, yard.railway, work, event)
        else:
            generator = rail.unload_train(yard, work, event)
        actors.resumed_process(yard.env, generator, work)

    return start


def _serve_added_capacity(yard: Yard) -> None:
    """Under a spec with more servers, room or plugs than the snapshot's, those waiting get
    them now (as a release would have given them); under the same spec this does nothing."""
    for pool in pools_of(yard).values():
        while pool.waiting and pool.busy < pool.capacity:
            pool.busy += 1
            pool.waiting.popleft().succeed()
    stack = yard.stack
    while stack.waiting and stack.level + stack.waiting[0][0] <= stack.capacity:
        teu, room = stack.waiting.popleft()
        stack.level += teu
        room.succeed()
    yard.plugs._trigger_put(None)

"""A yard's whole state as data: `snapshot_yard` reads it, `stations.snapshot_restore` loads it.

SimPy generators cannot be pickled, so every actor keeps a progress record (`TruckProgress`,
`InspectionProgress`, `TrainWork`, ...) and the snapshot is those records plus what each actor
waits on. At an instant boundary every actor in flight waits on exactly one event, and every
such event is in one of a few places: the event queue (timers), a pool's or the stack's line,
the plugs' line, the import boxes trucks came for early, an import box's unloading, or a
train's gantries. The snapshot walks those places in their order and finds each waiting actor
through the event's callback (`stations.actors.progress_of`); an event whose waiter is not an
actor of the model means the yard is not at an instant boundary, and the snapshot refuses.
"""

import dataclasses
import hashlib
from array import array
from collections.abc import Iterable
from sys import byteorder
from typing import Any

import msgspec
import simpy
from simpy.events import NORMAL, Condition

from stations import actors, trucks
from stations.box import Box
from stations.boxes import InspectionProgress
from stations.rail import GantryProgress, TrainWork
from stations.reefer_checks import ReeferCheckProgress
from stations.snapshot_format import (
    ActorState,
    BoxState,
    GantryState,
    LevelState,
    MonitorState,
    PlanState,
    RailwayState,
    RecordsState,
    StreamState,
    TrainState,
    TruckState,
    WaitRef,
    YardSnapshot,
)
from stations.spec import StationSpec
from stations.timetable import TrainPlan
from stations.yard import Yard


class SnapshotError(ValueError):
    """A yard that cannot be snapshotted now, or a snapshot that cannot be loaded."""


def spec_digest(spec: StationSpec) -> str:
    """A digest of the yard's spec (its figures and policies, not the file it came from)."""
    plain = msgspec.json.encode(dataclasses.replace(spec, source={}))
    return hashlib.sha256(plain).hexdigest()[:16]


def pools_of(yard: Yard) -> dict[str, Any]:
    """The yard's pools by name (the reefer technicians only under that policy)."""
    pools = {
        "gate": yard.gate,
        "exception_gate": yard.exception_gate,
        "reach_stackers": yard.reach_stackers,
        "rmgs": yard.rmgs,
        "inspection_bays": yard.inspection_bays,
        "tracks": yard.tracks,
    }
    if yard.reefer_technicians is not None:
        pools["reefer_technicians"] = yard.reefer_technicians
    return pools


def snapshot_yard(yard: Yard, seed: int, replication: int = 0) -> YardSnapshot:
    """The yard's whole state now; call it at an instant boundary (`run_before(t)` done, no
    event at `t` applied yet), as the twin does between events of different instants."""
    waits = _find_waits(yard)
    boxes = [_box_state(yard, box, waits) for box in yard.boxes.values()]
    truck_states, actor_states, train_states = [], [], []
    for progress, wait in waits.items.values():
        if isinstance(progress, trucks.TruckProgress):
            truck_states.append(_truck_state(progress, wait))
        elif isinstance(progress, InspectionProgress):
            actor_states.append(
                ActorState(
                    "inspection", progress.box.container_id, progress.stage, progress.duration, wait
                )
            )
        elif isinstance(progress, ReeferCheckProgress):
            actor_states.append(
                ActorState("reefer_check", progress.box.container_id, progress.stage, 0.0, wait)
            )
        elif isinstance(progress, TrainWork):
            train_states.append(_train_state(progress, wait, waits))
    for plan in yard.railway.plans:
        if not any(train.train_id == plan.train_id for train in train_states):
            raise SnapshotError(f"departure {plan.train_id} has no loading process")
    env = yard.env
    return YardSnapshot(
        yard=yard.spec.id,
        spec_digest=spec_digest(yard.spec),
        seed=seed,
        replication=replication,
        now=env.now,
        busy={name: pool.busy for name, pool in pools_of(yard).items()},
        stack_level=yard.stack.level,
        boxes=boxes,
        trucks=truck_states,
        actors=actor_states,
        trains=train_states,
        railway=_railway_state(yard),
        appointments=(
            None if yard.appointments is None else sorted(yard.appointments.booked.items())
        ),
        dispatched_trucks=list(yard.dispatched_trucks.items()),
        awaited_boxes=list(yard.awaited_boxes),
        inspections_in_progress=yard.inspections_in_progress,
        modelled=[(s, m, t) for (s, m), t in yard._modelled.items()],
        observed=[(s, m, t) for (s, m), t in yard._observed.items()],
        streams=[
            StreamState(purpose, *stream.plain_state()) for purpose, stream in yard.streams.items()
        ],
        levels=[
            LevelState(
                name, series.value, _little_endian(series.times), _little_endian(series.values)
            )
            for name, series in yard.levels.items()
        ],
        records=RecordsState(
            **{f: list(getattr(yard.records, f)) for f in RecordsState.__struct_fields__}
        ),
    )


class _Waits:
    """Every actor in flight (by its progress record's id) with what it waits on."""

    def __init__(self) -> None:
        self.items: dict[int, tuple[object, WaitRef]] = {}
        self.owners: dict[int, object] = {}  # progress id -> the actor or process driving it

    def add(self, event: simpy.Event, wait: WaitRef, skip: Iterable[object] = ()) -> None:
        rank = wait.rank
        for callback in event.callbacks or ():
            progress = actors.progress_of(callback)
            if progress is None:
                if callback in skip:
                    continue
                raise SnapshotError(
                    f"not at an instant boundary: an event ({wait.kind} {wait.key}) waited on "
                    "by something that is not an actor of the yard"
                )
            if id(progress) in self.items:
                raise SnapshotError("an actor waits on two events at once")
            self.items[id(progress)] = (progress, msgspec.structs.replace(wait, rank=rank))
            self.owners[id(progress)] = getattr(callback, "__self__", None)
            rank += 1

    def of(self, progress: object) -> WaitRef:
        return self.items[id(progress)][1]


def _find_waits(yard: Yard) -> _Waits:
    waits = _Waits()
    env = yard.env
    for rank, (time, priority, _, event) in enumerate(sorted(env._queue)):
        if priority != NORMAL or time < env.now or not isinstance(event, simpy.Timeout):
            raise SnapshotError(
                "not at an instant boundary: the event queue holds more than timers; "
                "snapshot between events of different instants"
            )
        waits.add(event, WaitRef("timer", rank=rank, time=time))
    for name, pool in pools_of(yard).items():
        for rank, event in enumerate(pool.waiting):
            waits.add(event, WaitRef("pool", name, rank))
    for rank, (_, event) in enumerate(yard.stack.waiting):
        waits.add(event, WaitRef("stack", rank=rank))
    for rank, request in enumerate(yard.plugs.put_queue):
        waits.add(request, WaitRef("plug", rank=rank), skip=[yard.plugs._trigger_get])
    for container_id, event in yard.awaited_boxes.items():
        waits.add(event, WaitRef("awaited", container_id))
    for box in yard.boxes.values():
        if box.in_stack is not None and box.in_stack.callbacks is not None:
            waits.add(box.in_stack, WaitRef("in_stack", box.container_id))
    for progress, _ in list(waits.items.values()):
        if isinstance(progress, GantryProgress) and id(progress.work) not in waits.items:
            gantry = waits.owners[id(progress)]
            train = _train_waiting_for(gantry)
            wait = WaitRef("gantries", progress.work.train_id)
            waits.add(train, wait, skip=[train._build_value])
    return waits


def _train_waiting_for(gantry: object) -> Condition:
    """The `AllOf` a gantry's train waits on (the gantry's one callback)."""
    callbacks = gantry.callbacks if isinstance(gantry, simpy.Process) else None
    condition = getattr(callbacks[0], "__self__", None) if callbacks else None
    if not isinstance(condition, Condition):
        raise SnapshotError("a gantry whose train does not wait for it")
    return condition


def _truck_state(p: trucks.TruckProgress, wait: WaitRef) -> TruckState:
    return TruckState(
        tuple(p.order),  # type: ignore[arg-type]
        trucks.STAGES[p.stage],
        p.exception_lane,
        p.arrived,
        p.gate_start,
        p.gate_end,
        p.lift_start,
        p.lift_end,
        wait,
    )


def _train_state(work: TrainWork, wait: WaitRef, waits: _Waits) -> TrainState:
    gantries = [
        GantryState("" if g.box is None else g.box.container_id, g.stage, g.start, waits.of(g))
        for g, _ in waits.items.values()
        if isinstance(g, GantryProgress) and g.work is work
    ]
    return TrainState(
        work.train_id,
        work.direction,
        work.stage,
        work.boxes,
        work.teu,
        work.arrived,
        work.work_start,
        work.work_end,
        [box.container_id for box in work.unloading],
        [box.container_id for box in work.queue],
        gantries,
        wait,
    )


def _box_state(yard: Yard, box: Box, waits: _Waits) -> BoxState:
    in_stack = "" if box.in_stack is None else ("done" if box.in_stack.processed else "pending")
    request, plug, since, rank = box.plug_request, "", 0.0, 0
    if request is not None:
        if request.triggered:
            plug, since = "holding", request.usage_since or 0.0
        else:
            plug, rank = "waiting", waits.of(box).rank
    monitor = box.reefer_monitor
    return BoxState(
        box.container_id,
        box.direction,
        box.teu,
        box.reefer,
        box.entered,
        box.stacked,
        box.inspection_start,
        box.cleared,
        box.loading_start,
        box.train_id,
        box.booked_on,
        box.inspected,
        box.plug_wait_min,
        in_stack,
        plug,
        since,
        rank,
        None
        if monitor is None
        else MonitorState(
            monitor.setpoint_c,
            None if monitor.last is None else tuple(monitor.last),  # type: ignore[arg-type]
            monitor.off_since,
            monitor._above_since,
            monitor._excursion_since,
            monitor._peak,
        ),
    )


def _railway_state(yard: Yard) -> RailwayState:
    railway = yard.railway
    return RailwayState(
        plans=[plan.train_id for plan in railway.plans],
        known=[_plan_state(plan) for plan in railway.known.values()],
        waiting=[box.container_id for box in railway.waiting],
        held=[(train, [box.container_id for box in held]) for train, held in railway.held.items()],
    )


def _plan_state(plan: TrainPlan) -> PlanState:
    departed = plan.departed == plan.departed  # not NaN: its boxes left with it
    return PlanState(
        plan.train_id,
        plan.departure,
        plan.cutoff,
        plan.capacity_teu,
        plan.destination,
        [] if departed else [box.container_id for box in plan.booked],
        plan.booked_teu,
        plan.departed,
    )


def _little_endian(values: "array[float]") -> bytes:
    if byteorder == "little":
        return values.tobytes()
    swapped = array("d", values)
    swapped.byteswap()
    return swapped.tobytes()

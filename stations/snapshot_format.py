"""The yard snapshot format: one yard's whole state at an instant, as plain data.

A snapshot is taken at an instant boundary (every event before the instant applied, the yard's
clock run to it, nothing at the instant applied yet: `stations.snapshot`), so every actor in
flight waits on exactly one thing: a timer, a place in a queue, a train that will bring its box.
Each actor is written as its progress record (stage reached, times so far) plus that wait
(`WaitRef`); the loader recreates the waits in their original order, so ties between events
due at one instant break as they would have. Times are `Minutes` since the twin's epoch
(NaN: not yet). The fields are documented in `docs/snapshots.md`; `VERSION` changes with any
change of meaning, and a loader refuses every version but its own.
"""

import msgspec

from stations.records import (
    BoxVisit,
    Lift,
    Observation,
    ReadingReceived,
    ReeferExcursion,
    TrainVisit,
    TruckVisit,
)
from stations.types import Minutes

FORMAT = "corridor-yard-snapshot"
VERSION = 1


class _Data(msgspec.Struct, forbid_unknown_fields=True, array_like=True):
    """A snapshot part: fields by position (the format is versioned, names cost bytes)."""


class WaitRef(_Data):
    """What an actor waits on. `kind`: `timer` (due at `time`), `pool` (in line at pool
    `key`), `stack` (for stack room), `plug` (for a reefer plug), `awaited` (for import box
    `key` to arrive), `in_stack` (for box `key` to be unloaded), `gantries` (a train for its
    gantries). `rank` orders waits of one kind and key: the event queue's order for timers,
    the place in line for queues, the order of waiters on a shared event."""

    kind: str
    key: str = ""
    rank: int = 0
    time: Minutes = 0.0


class MonitorState(_Data):
    """A reefer's thermal state (`stations.reefers.ReeferMonitor`); `last` is its latest
    reading (time, setpoint, supply, return, power on, alarms)."""

    setpoint_c: float
    last: tuple[float, float, float, float, bool, tuple[str, ...]] | None
    off_since: Minutes | None
    above_since: Minutes | None
    excursion_since: Minutes | None
    peak: float


class BoxState(_Data):
    """A box in the yard (`stations.box.Box`). `in_stack`: "" (an export box: no such event),
    "pending" (an import box not unloaded yet) or "done". `plug`: "" (no plug asked for, or
    given back), "holding" (since `plug_since`) or "waiting" (rank `plug_rank` in the plugs'
    line)."""

    container_id: str
    direction: str
    teu: int
    reefer: bool
    entered: Minutes
    stacked: Minutes
    inspection_start: Minutes
    cleared: Minutes
    loading_start: Minutes
    train_id: str
    booked_on: str
    inspected: bool
    plug_wait_min: float
    in_stack: str
    plug: str
    plug_since: Minutes
    plug_rank: int
    monitor: MonitorState | None


class TruckState(_Data):
    """A truck in its visit (`stations.trucks.TruckProgress`): its dispatch (the fields of
    `TruckOrder`), the stage it reached (`stations.trucks.STAGES`), its times so far."""

    order: tuple[str, str, int, bool, str, Minutes, Minutes, float | None, str]
    stage: str
    exception_lane: bool
    arrived: Minutes
    gate_start: Minutes
    gate_end: Minutes
    lift_start: Minutes
    lift_end: Minutes
    wait: WaitRef


class ActorState(_Data):
    """A box's inspection (`kind` "inspection", drawn `duration`) or reefer check (`kind`
    "reefer_check"), at `stage` (`stations.boxes` / `stations.reefer_checks`)."""

    kind: str
    container_id: str
    stage: int
    duration: Minutes
    wait: WaitRef


class GantryState(_Data):
    """A gantry of a train, moving `container_id` ("" between boxes), at `stage`
    (`stations.rail`: stack room, RMG queue, lift) since `start`."""

    container_id: str
    stage: int
    start: Minutes
    wait: WaitRef


class TrainState(_Data):
    """A train being worked (`stations.rail.TrainWork`): a departure (`direction` "export",
    its plan in the railway) or an arrival (`boxes` of `teu` in all; `unloading` until its
    gantries start); `queue` is the boxes no gantry has taken yet, `gantries` those still
    working, in the order they started."""

    train_id: str
    direction: str
    stage: int
    boxes: int
    teu: int
    arrived: Minutes
    work_start: Minutes
    work_end: Minutes
    unloading: list[str]
    queue: list[str]
    gantries: list[GantryState]
    wait: WaitRef


class PlanState(_Data):
    """A departure the railway knows (`stations.timetable.TrainPlan`), its booked boxes by
    id (empty once it departed: they left with it)."""

    train_id: str
    departure: Minutes
    cutoff: Minutes
    capacity_teu: int
    destination: str
    booked: list[str]
    booked_teu: int
    departed: Minutes


class RailwayState(_Data):
    """The departures (`plans` in booking order, `known` every one ever scheduled, departed
    ones too) and the cleared boxes on none yet (`waiting`; `held` by the train they are
    booked on)."""

    plans: list[str]
    known: list[PlanState]
    waiting: list[str]
    held: list[tuple[str, list[str]]]


class StreamState(_Data):
    """A named random stream (`stations.random_streams.RandomStream`): the PCG64 state now,
    and for each block of variates still being used (uniforms, normals) the state it was
    drawn from and how many of its values are left. PCG64's 128-bit integers are decimal
    strings."""

    purpose: str
    state: tuple[str, str, int, int]
    uniform_from: tuple[str, str, int, int] | None
    uniform_left: int
    normal_from: tuple[str, str, int, int] | None
    normal_left: int


class LevelState(_Data):
    """A level series: its step function as little-endian float64 `times` and `values`."""

    name: str
    value: float
    times: bytes
    values: bytes


class RecordsState(_Data):
    """Every record the yard emitted so far, in emission order (`stations.yard.YardRecords`)."""

    truck_visits: list[TruckVisit]
    box_visits: list[BoxVisit]
    lifts: list[Lift]
    train_visits: list[TrainVisit]
    observations: list[Observation]
    reefer_excursions: list[ReeferExcursion]
    reefer_readings: list[ReadingReceived]


class YardSnapshot(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """One yard's whole state at `now` (see the module docstring)."""

    format: str = FORMAT
    version: int = VERSION
    yard: str
    spec_digest: str
    seed: int
    replication: int
    now: Minutes
    busy: dict[str, int]  # pool name -> servers in use
    stack_level: int
    boxes: list[BoxState]
    trucks: list[TruckState]
    actors: list[ActorState]
    trains: list[TrainState]
    railway: RailwayState
    appointments: list[tuple[int, int]] | None
    dispatched_trucks: list[tuple[str, float]]  # truck id, its latest dispatch (minutes)
    awaited_boxes: list[str]
    inspections_in_progress: int
    modelled: list[tuple[str, str, Minutes]]
    observed: list[tuple[str, str, Minutes]]
    streams: list[StreamState]
    levels: list[LevelState]
    records: RecordsState

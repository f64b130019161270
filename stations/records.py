"""The flat, immutable records the yard model emits, and nothing else.

KPIs are pure functions of these (`corridor.kpis.report`). Times are `Minutes` since the scenario
epoch; a time that has not happened (a box still in the yard, a milestone never observed) is
NaN, so every time column stays a float column. *Tally* records describe one thing's passage
(a truck visit, a box visit, a lift); *level* records describe a quantity that changes over
time (queue length, occupancy) and are time-weighted by the KPI code.
"""

from typing import NamedTuple

from stations.types import Minutes

NOT_YET = float("nan")
"""A time that has not happened (or was never observed)."""


class TruckVisit(NamedTuple):
    """One truck's passage: dispatch, gate, lift, exit, as the model plays it."""

    yard: str
    truck_id: str
    container_id: str
    direction: str  # "export" | "import"
    teu: int
    reefer: bool
    dispatched: Minutes
    arrived: Minutes  # at the gate queue (the dispatch's eta)
    gate_start: Minutes
    gate_end: Minutes
    exception_lane: bool
    lift_start: Minutes
    lift_end: Minutes
    departed: Minutes  # through the out-gate


class BoxVisit(NamedTuple):
    """One box's stay in the yard, from entering (truck gate-in or train arrival) to leaving.

    The milestones between split the stay into the stages of `dwell_h.stages` (docs/kpis.md).
    An export box is `entered` -> `stacked` -> `inspection_start` -> `cleared` (customs done;
    for a box not held both equal the time it reached customs: `stacked`, or the end of its
    reefer check under that policy, `stations.reefer_checks`) -> `loading_start` (its train's
    cut-off passed, or its booking at the cut-off instant) -> `left`; an import box `entered`
    (train arrival) -> `stacked` (unloaded) -> `left`, its export milestones NaN. A milestone
    still to come is NaN.
    """

    yard: str
    container_id: str
    direction: str  # "export" | "import"
    teu: int
    reefer: bool
    entered: Minutes
    stacked: Minutes
    left: Minutes  # NaN: still in the yard when the run ended
    train_id: str  # the train that took (export) or brought (import) it
    inspected: bool
    plug_wait_min: float  # reefers: time stacked without power while waiting for a plug
    inspection_start: Minutes = NOT_YET  # export: a customs bay took it (not held: = cleared)
    cleared: Minutes = NOT_YET  # export: released for booking (inspection end, or customs)
    loading_start: Minutes = NOT_YET  # export: its train passed the cut-off and began loading


class Lift(NamedTuple):
    """One move by one piece of equipment."""

    yard: str
    equipment: str  # "rmg" | "reach_stacker"
    container_id: str
    purpose: str  # "truck" | "train_load" | "train_unload"
    start: Minutes
    end: Minutes


class TrainVisit(NamedTuple):
    """One train at the yard: an export departure or an import arrival."""

    yard: str
    train_id: str
    direction: str  # "export" (departure) | "import" (arrival)
    scheduled: Minutes  # planned departure (export) or arrival time (import)
    work_start: Minutes  # wagon placement begins
    work_end: Minutes  # last box loaded or unloaded
    departed: Minutes  # export: left the yard; import: NaN
    boxes: int
    teu: int


class Observation(NamedTuple):
    """An observed milestone (truck gate-in/out, train departure) beside the model's own time.

    Emitted once both are known; `modelled` is NaN when the model never reached the milestone.
    """

    yard: str
    subject_id: str  # truck_id or train_id
    milestone: str  # "gate_in" | "gate_out" | "train_departed"
    observed: Minutes
    modelled: Minutes


class LevelChange(NamedTuple):
    """A level (queue length, occupancy) took a new value at `time`."""

    yard: str
    level: str  # one of LEVELS
    time: Minutes
    value: float


class ReeferExcursion(NamedTuple):
    """A reefer outside its band (kind "temperature") or without power (kind "power_off")."""

    yard: str
    container_id: str
    kind: str  # "temperature" | "power_off"
    start: Minutes
    end: Minutes  # NaN: still open when the run ended
    peak_deviation_c: float  # temperature: largest |supply - setpoint|; power_off: NaN


class ReadingReceived(NamedTuple):
    """A reefer's telemetry reading was applied to its box at model time `time`.

    `time` is the model's time when the reading was applied: its event time, or the yard's
    clock for a reading applied late (as every other record of that moment).
    """

    yard: str
    container_id: str
    time: Minutes


LEVELS = (
    "gate_queue",
    "exception_queue",
    "gate_busy",
    "trucks_in_yard",
    "stack_teu",
    "plugs_in_use",
    "handling_busy",
    "exception_busy",
)
"""`gate_busy` counts the smart lanes serving a truck, `exception_busy` the manual lanes;
`gate_queue` every truck waiting at the gate, `exception_queue` the part waiting for a manual
lane."""

RECORD_TYPES: dict[str, type[tuple[object, ...]]] = {
    "truck_visits": TruckVisit,
    "box_visits": BoxVisit,
    "lifts": Lift,
    "train_visits": TrainVisit,
    "observations": Observation,
    "levels": LevelChange,
    "reefer_excursions": ReeferExcursion,
    "reefer_readings": ReadingReceived,
}
"""Record table name -> record type; the `--out` directory holds one table per name."""

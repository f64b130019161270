"""The store's tables, as SQLModel families: `XBase` (shared fields), `XPublic` (what the API
returns) and `X(table=True)` (the row).

The live worker writes every table except `ReplayJob` (the API's own); the API reads them all.
Outputs are keyed by their natural key, so committing the same batch twice changes nothing:
a KPI snapshot by (scope, window, as_of), a yard's state by yard, a truck visit by
(yard, truck_id, dispatched), a box visit by (yard, container_id, entered), a train visit by
(yard, train_id, direction), an observation by (yard, subject_id, milestone), a reefer
excursion by (yard, container_id, kind, start), a reefer's status and an old box (the
overdue list) by (yard, container_id).
Record times are `Minutes` since the twin's epoch, NaN (not happened) stored as NULL; every
timestamp column is timezone-aware (`UtcDateTime`).
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, LargeBinary, Table, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.store.db import UtcDateTime
from api.store.kpi_tables import KpiPartial as KpiPartial
from api.store.kpi_tables import KpiSnapshot as KpiSnapshot
from api.store.kpi_tables import KpiSnapshotBase as KpiSnapshotBase


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a `table=True` model (for dialect upserts and fast selects)."""
    table = model.__table__  # type: ignore[attr-defined]
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not a table model")
    return table


# --- KPI snapshots and the yards' partials: `api.store.kpi_tables` ------------------------

# --- live yard state -------------------------------------------------------------------------


class TrainPlan(SQLModel):
    """A departure export boxes are booked on: when it leaves, its cut-off, booked/capacity TEU."""

    train_id: str
    departure: datetime
    cutoff: datetime
    capacity_teu: int
    booked_teu: float


class YardStateBase(SQLModel):
    """What is in a yard right now, at its twin clock."""

    yard: str = Field(primary_key=True, max_length=32)
    clock: datetime = Field(sa_type=UtcDateTime)


class YardState(YardStateBase, table=True):
    """The latest state of one yard (one row per yard, replaced on every commit)."""

    __tablename__ = "yard_states"

    state: dict[str, Any] = Field(sa_type=JSON)
    updated_at: datetime = Field(sa_type=UtcDateTime)


class YardStatePublic(YardStateBase):
    """Queues, occupancy and the next trains of a yard (`Twin.state`); unknown fields ignored."""

    gate_queue: int
    exception_queue: int
    trucks_in_yard: int
    boxes_in_yard: int
    stack_teu: float
    stack_capacity_teu: int
    plugs_in_use: int
    reefer_plugs: int
    reefers_waiting_for_plug: int
    handling_busy: int
    handling_capacity: int
    inspections_in_progress: int
    next_trains: list[TrainPlan]


# --- reefers ---------------------------------------------------------------------------------


class ReeferStatusBase(SQLModel):
    """A reefer in a yard with its latest reading (`Twin.reefers`)."""

    yard: str = Field(primary_key=True, max_length=32)
    container_id: str = Field(primary_key=True, max_length=16)
    setpoint_c: float | None = None
    supply_c: float | None = None
    return_c: float | None = None
    power: str | None = Field(default=None, max_length=8)
    alarms: list[str] = Field(default_factory=list, sa_type=JSON)
    last_reading: datetime | None = Field(default=None, sa_type=UtcDateTime)
    plugged: bool = False
    in_excursion: bool = False
    excursion_since: datetime | None = Field(default=None, sa_type=UtcDateTime)
    estimated_cargo_c: float | None = None  # the twin's estimate of the cargo temperature
    minutes_to_breach: float | None = None  # until the estimate leaves its band; 0 over, None never
    breach_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # that moment


class ReeferStatus(ReeferStatusBase, table=True):
    """One row per reefer in a yard; a yard's rows are replaced with its state."""

    __tablename__ = "reefer_status"

    alarm_count: int = 0  # len(alarms), so "in alarm" is an indexable comparison on any database


class ReeferStatusPublic(ReeferStatusBase):
    """A reefer as the API shows it."""


# --- the boxes longest in the yards ------------------------------------------------------------


class OverdueBoxBase(SQLModel):
    """A box 12 h or more in a yard at its clock `as_of`, and its stage (`Twin.boxes_now`)."""

    yard: str = Field(primary_key=True, max_length=32)
    container_id: str = Field(primary_key=True, max_length=16)
    direction: str = Field(max_length=8)  # "export" | "import"
    reefer: bool
    teu: int
    entered: datetime = Field(sa_type=UtcDateTime)  # truck gate-in or train arrival
    as_of: datetime = Field(sa_type=UtcDateTime)  # the yard's twin clock
    age_h: float = Field(index=True)  # hours from entered to as_of
    stage: str = Field(max_length=32)  # a `dwell_h.stages` name (docs/kpis.md)
    train_id: str | None = Field(default=None, max_length=64)  # booked on, or arrived with


class OverdueBox(OverdueBoxBase, table=True):
    """One row per old box; a yard's rows are replaced with its state."""

    __tablename__ = "overdue_boxes"


class OverdueBoxPublic(OverdueBoxBase):
    """An old box as the API shows it."""


# --- completed records (Minutes since the twin's epoch; NULL = not happened) ------------------


class TruckVisit(SQLModel, table=True):
    """One truck's passage (`stations.records.TruckVisit`)."""

    __tablename__ = "truck_visits"

    yard: str = Field(primary_key=True, max_length=32)
    truck_id: str = Field(primary_key=True, max_length=64)
    dispatched: float = Field(primary_key=True)
    container_id: str = Field(max_length=16)
    direction: str = Field(max_length=8)
    teu: int
    reefer: bool
    arrived: float | None
    gate_start: float | None
    gate_end: float | None
    exception_lane: bool
    lift_start: float | None
    lift_end: float | None
    departed: float | None


class BoxVisit(SQLModel, table=True):
    """One box's stay (`stations.records.BoxVisit`)."""

    __tablename__ = "box_visits"

    yard: str = Field(primary_key=True, max_length=32)
    container_id: str = Field(primary_key=True, max_length=16)
    entered: float = Field(primary_key=True)
    direction: str = Field(max_length=8)
    teu: int
    reefer: bool
    stacked: float | None
    left: float | None
    train_id: str = Field(max_length=64)
    inspected: bool
    plug_wait_min: float | None
    inspection_start: float | None
    cleared: float | None
    loading_start: float | None


class TrainVisit(SQLModel, table=True):
    """One train at a yard (`stations.records.TrainVisit`)."""

    __tablename__ = "train_visits"

    yard: str = Field(primary_key=True, max_length=32)
    train_id: str = Field(primary_key=True, max_length=64)
    direction: str = Field(primary_key=True, max_length=8)
    scheduled: float | None
    work_start: float | None
    work_end: float | None
    departed: float | None
    boxes: int
    teu: int


class Observation(SQLModel, table=True):
    """An observed milestone beside the model's own time (`stations.records.Observation`)."""

    __tablename__ = "observations"

    yard: str = Field(primary_key=True, max_length=32)
    subject_id: str = Field(primary_key=True, max_length=64)
    milestone: str = Field(primary_key=True, max_length=16)
    observed: float | None
    modelled: float | None


class ReeferExcursion(SQLModel, table=True):
    """A reefer out of band or unpowered (`stations.records.ReeferExcursion`)."""

    __tablename__ = "reefer_excursions"

    yard: str = Field(primary_key=True, max_length=32)
    container_id: str = Field(primary_key=True, max_length=16)
    kind: str = Field(primary_key=True, max_length=16)
    start: float = Field(primary_key=True)
    end: float | None
    peak_deviation_c: float | None


# --- dead letters ----------------------------------------------------------------------------


class DeadLetter(SQLModel, table=True):
    """A message that could not be applied, kept with its origin and reason."""

    __tablename__ = "dead_letters"
    __table_args__ = (
        UniqueConstraint("source_topic", "partition", "offset", name="uq_dead_letters_origin"),
    )

    id: int | None = Field(default=None, primary_key=True)
    reason: str = Field(index=True)
    source_topic: str = Field(max_length=255)
    partition: int
    offset: int = Field(sa_type=BigInteger)  # Kafka offsets are 64-bit
    raw: bytes = Field(sa_type=LargeBinary)
    stored_at: datetime = Field(sa_type=UtcDateTime)


class DeadLetterCountBase(SQLModel):
    """How many messages were dead-lettered for one reason."""

    reason: str = Field(primary_key=True)
    count: int


class DeadLetterCount(DeadLetterCountBase, table=True):
    """Counts kept beside the letters so /metrics does not scan them."""

    __tablename__ = "dead_letter_counts"


class DeadLetterCountPublic(DeadLetterCountBase):
    """A dead-letter reason and its count."""


class InputFlagCountBase(SQLModel):
    """How many valid events were applied but flagged for one kind of oddity."""

    kind: str = Field(primary_key=True, max_length=64)  # e.g. "gate_out_before_gate_in"
    count: int = Field(sa_type=BigInteger)


class InputFlagCount(InputFlagCountBase, table=True):
    """Totals since the store was created, kept by the worker (see `streams.input_checks`)."""

    __tablename__ = "input_flag_counts"


# --- the worker's own memory -----------------------------------------------------------------


class ArchiveSegment(SQLModel, table=True):
    """One committed batch of the archive: accepted events (exact bytes) and clock advances.

    The entries are packed in order (`api.store.archive_segments`); the archive is the segments in
    commit order (`seq`). `first_key` (the first entry's event id or `advance@<moment>`) makes
    a repeated commit of the same batch a no-op.
    """

    __tablename__ = "archive_segments"

    seq: int | None = Field(default=None, primary_key=True)
    first_key: str = Field(unique=True, max_length=128)
    entries: int
    events: int
    first_event_ts: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_event_ts: datetime | None = Field(default=None, sa_type=UtcDateTime)
    payload: bytes = Field(sa_type=LargeBinary)


class InputOffset(SQLModel, table=True):
    """The next offset a consumer group reads, per topic partition."""

    __tablename__ = "input_offsets"

    group: str = Field(primary_key=True, max_length=255)
    topic: str = Field(primary_key=True, max_length=255)
    partition: int = Field(primary_key=True)
    next_offset: int = Field(sa_type=BigInteger)


class WorkerCommitBase(SQLModel):
    """A worker's last commit: when, and the latest event time it had archived."""

    group: str = Field(primary_key=True, max_length=255)
    committed_at: datetime = Field(sa_type=UtcDateTime)
    last_event_time: datetime | None = Field(default=None, sa_type=UtcDateTime)
    lag: int | None = Field(
        default=None, sa_type=BigInteger
    )  # messages behind the feeds' ends, when the worker reports it
    yards_ahead: dict[str, float] | None = Field(default=None, sa_type=JSON)
    """Yards whose clock is ahead of the newest input by more than the lateness, by seconds:
    they apply every event late (see docs/streams.md); empty when none, null before 0003."""


class WorkerCommit(WorkerCommitBase, table=True):
    """One row per consumer group."""

    __tablename__ = "worker_commits"


class WorkerCommitPublic(WorkerCommitBase):
    """A worker as /ready reports it."""

    running: bool


# --- replay jobs (the API's own) -------------------------------------------------------------


class ReplayJobBase(SQLModel):
    """A planner's what-if: replay an uploaded event log with a seed and scenario overrides."""

    id: str = Field(primary_key=True, max_length=36)
    status: str = Field(max_length=8)  # "queued" | "running" | "done" | "failed"
    filename: str = Field(max_length=255)
    seed: int | None  # as asked; once done, the seed the replay used
    scenario: dict[str, Any] = Field(sa_type=JSON)
    created_at: datetime = Field(sa_type=UtcDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    events: int | None = None  # events read from the log
    rejected_lines: int | None = None  # lines of the log that were not events
    error: str | None = None


class ReplayJob(ReplayJobBase, table=True):
    """A job row; `result` holds the KPI report (kpis.json) once done.

    `owner` is the API process that queued and runs the job; it renews `heartbeat_at` while
    the job is queued or running there, so another process can tell a live job (never
    touched) from one whose owner died (failed once the lease has expired).
    """

    __tablename__ = "replay_jobs"

    result: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    owner: str | None = Field(default=None, max_length=128)
    heartbeat_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class ReplayJobPublic(ReplayJobBase):
    """A job as the API shows it: its state and, once done, the KPI report and the rejections."""

    result: dict[str, Any] | None = None


# the live twin's snapshots, the partitions' owners and the worker's forecasts have their own
# modules (their reads and writes are there)
from api.store.fencing import PartitionOwnerRow as PartitionOwnerRow  # noqa: E402
from api.store.forecasts import ForecastRow as ForecastRow  # noqa: E402
from api.store.twin_snapshots import TwinSnapshotRow as TwinSnapshotRow  # noqa: E402

# what-if jobs too (`api.store.whatif_jobs_table`)
from api.store.whatif_jobs_table import WhatIfJobRow as WhatIfJobRow  # noqa: E402
from api.store.yard_forecasts import YardForecastRow as YardForecastRow  # noqa: E402

"""One yard's traffic, a day at a time: trains from the timetable, trucks, milestones, telemetry.

Realistic mode, for a yard-day [lo, hi) of the period:

- every timetabled departure in the day is announced (`train.scheduled`) 24 h before it
  leaves, or at the period start if that is later;
- export trucks reach the gate as a Poisson process whose rate follows the local-hour
  `hourly_profile` (daily mean `export_boxes_per_day`); each is dispatched `eta_lead_min`
  before its eta (at most 24 h, never before the period start). Its box is booked on the
  first departure leaving `export_lead_h` (reefers: `reefer_export_lead_h`) after the eta,
  and at least the longest cut-off plus an hour after it; that lead is most of its dwell;
- `import_trains_per_day` trains arrive, evenly spread and jittered by up to a quarter of
  their spacing (at most 1 h), each with Poisson(`import_boxes_per_day` / trains) boxes, at
  most 500. Each box is collected by a truck with eta = arrival + 2 h unloading +
  `import_pickup_h` (reefers: `reefer_import_pickup_h`); a pickup falling in a quiet hour
  is postponed hour by hour, going ahead in local hour h with probability profile[h] /
  max(profile), so pickups follow the gate's day/night profile and never fall in an hour of
  weight 0. The truck is dispatched
  `eta_lead_min` before its eta, but not before its box arrived;
- an `observed_share` of trucks report gate-in (eta + 1-8 min) and gate-out (25-45 min later);
- reefers report while surely stacked: an export box from eta + 1 h until the earliest
  cut-off not before its eta (it may catch that train and be loaded any time after the
  cut-off, so a box arriving less than an hour before a cut-off reports nothing); an import
  box from train arrival + 2 h until its pickup eta.

Poisson mode: export trucks of 20 ft dry boxes arriving as a flat Poisson process, dispatched
at their eta, and nothing else: the arrival stream of an M/M/c validation.
"""

import math
from datetime import datetime
from typing import Protocol

import numpy as np

from corridor.contract.events import Direction
from corridor.traffic.batch import DISPATCHED, GATE_IN, GATE_OUT, DayBatch
from corridor.traffic.draws import (
    ContainerNumbers,
    box_types,
    flat_arrivals,
    hourly_arrivals,
    owner_codes,
    sample_array,
    stream,
    whole_milliseconds,
    whole_seconds,
)
from corridor.traffic.reefers import Windows, reefer_readings
from corridor.traffic.timebase import (
    MS_PER_DAY,
    MS_PER_HOUR,
    MS_PER_MINUTE,
    Floats,
    Instants,
    Ints,
    Timetable,
    parse_utc_offset,
)
from stations.distributions import Distribution
from stations.spec import StationSpec

UNLOADING_MIN = 120.0  # train arrival -> an import box is stacked and may be collected
SETTLING_MIN = 60.0  # truck eta -> its export box is surely stacked
MAX_DISPATCH_LEAD_MIN = 1440.0
MAX_TRAIN_BOXES = 500
MAX_IMPORT_TRAINS_PER_DAY = 48.0
MAX_TRAIN_JITTER_MIN = 60.0
GATE_IN_AFTER_ETA_MIN = (1.0, 8.0)
GATE_OUT_AFTER_IN_MIN = (25.0, 45.0)


class YardTraffic(Protocol):
    """A source of one yard's traffic, one day at a time (days in order, from 0)."""

    yard: str
    code: str  # the yard's short code (station file `code`), which prefixes its ids
    instants: Instants

    def day(self, day: int) -> DayBatch: ...


class _Trucks:
    """Issues truck trips and their boxes: unique truck ids and container numbers."""

    def __init__(self, spec: StationSpec) -> None:
        self._code = spec.identity.code
        numbers = spec.container_numbers
        self._numbers = ContainerNumbers(numbers.serial_block, owner_codes(numbers))
        self._issued = 0

    def issue(
        self,
        batch: DayBatch,
        direction: Direction,
        eta_ms: Ints,
        iso_types: list[str],
        setpoints: Floats,
        booked_trains: list[str | None] | None = None,
    ) -> int:
        """Add trucks to the batch; returns the index of the first one."""
        first = len(batch.trucks)
        n = len(eta_ms)
        ids = [f"{self._code}-T{k:07d}" for k in range(self._issued, self._issued + n)]
        self._issued += n
        batch.trucks.extend(
            ids,
            self._numbers.take(n),
            iso_types,
            direction,
            eta_ms,
            setpoints.tolist(),
            booked_trains,
        )
        return first


class RealisticYard:
    """Timetabled trains, profiled truck arrivals, import pickups, milestones and telemetry."""

    _PURPOSES = (
        "export_arrivals",
        "export_boxes",
        "export_lead",
        "export_booking",
        "reefer_booking",
        "import_trains",
        "import_boxes",
        "import_pickup",
        "reefer_pickup",
        "import_quiet",
        "import_lead",
        "milestones",
        "readings",
    )

    def __init__(
        self,
        spec: StationSpec,
        *,
        seed: int,
        instants: Instants,
        days: int,
        observed: float,
        replication: int = 0,
    ) -> None:
        self.yard = spec.id
        self.code = spec.identity.code
        self.instants = instants
        self._spec = spec
        self._end_ms = days * MS_PER_DAY
        self._observed = observed
        self._timetable = Timetable(spec.rail, self.code, instants, days)
        self._rng = {
            purpose: stream(seed, spec.id, purpose, replication) for purpose in self._PURPOSES
        }
        self._trucks = _Trucks(spec)
        profile = np.asarray(spec.traffic.hourly_profile)
        self._export_per_hour = spec.traffic.export_boxes_per_day * profile / profile.sum()
        self._go_ahead = profile / profile.max()

    def day(self, day: int) -> DayBatch:
        """The traffic whose facts belong to day `day` of the period."""
        lo, hi = day * MS_PER_DAY, (day + 1) * MS_PER_DAY
        batch = DayBatch(self.yard, self.instants)
        departures = self._timetable.leaving_between(lo, hi)
        announce = [max(departure.ms - MS_PER_DAY, 0) for departure in departures]
        batch.add_departures(departures, np.array(announce, dtype=np.int64))
        export_dispatch, export_windows = self._export_trucks(batch, lo, hi)
        import_dispatch, import_windows = self._import_trains(batch, lo, hi)
        batch.add_rows(DISPATCHED, np.concatenate([export_dispatch, import_dispatch]))
        self._milestones(batch)
        windows = _joined(export_windows, import_windows)
        interval = self._spec.traffic.reading_interval_min
        batch.add_readings(
            reefer_readings(
                windows,
                interval_min=interval,
                reefer=self._spec.reefer,
                rng=self._rng["readings"],
                period_end_ms=self._end_ms,
                instants=self.instants,
            )
        )
        return batch

    def _export_trucks(self, batch: DayBatch, lo: int, hi: int) -> tuple[Ints, Windows]:
        traffic = self._spec.traffic
        local_ms0 = self.instants.local_ms0
        eta = hourly_arrivals(
            self._rng["export_arrivals"], self._export_per_hour, local_ms0, lo, hi
        )
        eta_ms = whole_seconds(eta)
        iso_types, setpoints = box_types(
            self._rng["export_boxes"], len(eta), traffic.forty_foot_share, traffic.reefer_share
        )
        booking_h = self._by_cargo(
            setpoints,
            (traffic.export_lead_h, "export_booking"),
            (traffic.reefer_export_lead_h, "reefer_booking"),
        )
        floor_h = self._timetable.latest_cutoff_h + SETTLING_MIN / 60.0
        lead_ms = whole_seconds(np.maximum(booking_h, floor_h) * MS_PER_HOUR)
        booked = self._timetable.booked_trains(eta_ms, lead_ms)
        first = self._trucks.issue(batch, "export", eta_ms, iso_types, setpoints, booked)
        dispatch = np.maximum(eta_ms - self._leads("export_lead", len(eta)), 0)
        reefer = np.flatnonzero(~np.isnan(setpoints))
        windows = Windows(
            box=first + reefer,
            start_ms=eta_ms[reefer] + round(SETTLING_MIN * MS_PER_MINUTE),
            end_ms=self._timetable.first_cutoff(eta_ms[reefer]),
            setpoint_c=setpoints[reefer],
        )
        return dispatch, windows

    def _import_trains(self, batch: DayBatch, lo: int, hi: int) -> tuple[Ints, Windows]:
        arrival_ms, counts = self._draw_trains(lo, hi)
        traffic = self._spec.traffic
        box_arrival = np.repeat(arrival_ms, counts)
        n = len(box_arrival)
        iso_types, setpoints = box_types(
            self._rng["import_boxes"], n, traffic.forty_foot_share, traffic.reefer_share
        )
        ready = box_arrival + round(UNLOADING_MIN * MS_PER_MINUTE)
        pickup = self._by_cargo(
            setpoints,
            (traffic.import_pickup_h, "import_pickup"),
            (traffic.reefer_import_pickup_h, "reefer_pickup"),
        )
        eta_ms = whole_seconds(self._postpone_quiet(ready + pickup * MS_PER_HOUR))
        first = self._trucks.issue(batch, "import", eta_ms, iso_types, setpoints)
        dispatch = np.maximum(eta_ms - self._leads("import_lead", n), box_arrival)
        batch.add_trains(
            [self._train_id(ms) for ms in arrival_ms.tolist()],
            arrival_ms,
            first + np.concatenate([[0], np.cumsum(counts)]),
        )
        reefer = np.flatnonzero(~np.isnan(setpoints))
        windows = Windows(
            box=first + reefer,
            start_ms=ready[reefer],
            end_ms=eta_ms[reefer],
            setpoint_c=setpoints[reefer],
        )
        return dispatch, windows

    def _draw_trains(self, lo: int, hi: int) -> tuple[Ints, Ints]:
        """Arrival times and box counts of the import trains due in [lo, hi)."""
        traffic = self._spec.traffic
        rng = self._rng["import_trains"]
        if traffic.import_trains_per_day <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        spacing = MS_PER_DAY / traffic.import_trains_per_day
        slots = np.arange(math.ceil(lo / spacing - 0.5), math.ceil(hi / spacing - 0.5))
        jitter = min(spacing / 4, MAX_TRAIN_JITTER_MIN * MS_PER_MINUTE)
        arrival = (slots + 0.5) * spacing + rng.uniform(-jitter, jitter, len(slots))
        mean_boxes = traffic.import_boxes_per_day / traffic.import_trains_per_day
        counts = np.minimum(rng.poisson(mean_boxes, len(slots)), MAX_TRAIN_BOXES)
        return whole_seconds(arrival), counts.astype(np.int64)

    def _train_id(self, arrival_ms: int) -> str:
        local = self.instants.at(arrival_ms)
        return f"{self.code}-IN-{local:%Y%m%d-%H%M}"

    def _postpone_quiet(self, eta: Floats) -> Floats:
        """Move pickups out of quiet hours, an hour at a time (see the module docstring)."""
        rng = self._rng["import_quiet"]
        eta = eta.copy()
        waiting = np.arange(len(eta))
        for _ in range(24):
            hours = self.instants.local_hour(eta[waiting])
            waiting = waiting[rng.random(len(waiting)) >= self._go_ahead[hours]]
            if len(waiting) == 0:
                break
            eta[waiting] += MS_PER_HOUR
        return eta

    def _by_cargo(
        self,
        setpoints: Floats,
        dry: tuple[Distribution, str],
        reefer: tuple[Distribution, str],
    ) -> Floats:
        """Hours per box: dry boxes (NaN setpoint) from one (distribution, stream), reefers
        from the other, so the reefer share never shifts the dry boxes' samples."""
        n = len(setpoints)
        dry_h = sample_array(dry[0], self._rng[dry[1]], n)
        reefer_h = sample_array(reefer[0], self._rng[reefer[1]], n)
        return np.where(np.isnan(setpoints), dry_h, reefer_h)

    def _leads(self, purpose: str, n: int) -> Ints:
        """Dispatch-to-eta leads in whole seconds, capped at 24 h."""
        lead = sample_array(self._spec.traffic.eta_lead_min, self._rng[purpose], n)
        return whole_seconds(np.minimum(lead, MAX_DISPATCH_LEAD_MIN) * MS_PER_MINUTE)

    def _milestones(self, batch: DayBatch) -> None:
        """Observed gate-in and gate-out of a share of the day's trucks."""
        u = self._rng["milestones"].random((len(batch.trucks), 3))
        eta = np.array(batch.trucks.eta_ms, dtype=np.float64)
        seen = np.flatnonzero(u[:, 0] < self._observed)
        low, high = GATE_IN_AFTER_ETA_MIN
        gate_in = whole_seconds(eta + (low + u[:, 1] * (high - low)) * MS_PER_MINUTE)
        low, high = GATE_OUT_AFTER_IN_MIN
        gate_out = gate_in + whole_seconds((low + u[:, 2] * (high - low)) * MS_PER_MINUTE)
        batch.add_rows(GATE_IN, gate_in[seen], seen)
        batch.add_rows(GATE_OUT, gate_out[seen], seen)


class PoissonYard:
    """Flat Poisson arrivals of export trucks (20 ft dry boxes), dispatched at their eta."""

    def __init__(
        self,
        spec: StationSpec,
        *,
        seed: int,
        instants: Instants,
        days: int,
        per_hour: float,
        replication: int = 0,
    ) -> None:
        self.yard = spec.id
        self.code = spec.identity.code
        self.instants = instants
        self._days = days
        self._per_hour = per_hour
        self._rng = stream(seed, spec.id, "poisson_arrivals", replication)
        self._trucks = _Trucks(spec)

    def day(self, day: int) -> DayBatch:
        """The trucks arriving in day `day` of the period (none after it)."""
        batch = DayBatch(self.yard, self.instants)
        if day >= self._days:
            return batch
        lo, hi = day * MS_PER_DAY, (day + 1) * MS_PER_DAY
        eta_ms = whole_milliseconds(flat_arrivals(self._rng, self._per_hour, lo, hi))
        n = len(eta_ms)
        self._trucks.issue(batch, "export", eta_ms, ["22G1"] * n, np.full(n, np.nan))
        batch.add_rows(DISPATCHED, eta_ms)
        return batch


def yard_instants(spec: StationSpec, start: datetime) -> Instants:
    """The period's clock in the yard's local offset."""
    return Instants(start, parse_utc_offset(spec.timezone, f"{spec.id}.timezone"))


def _joined(first: Windows, second: Windows) -> Windows:
    return Windows(
        box=np.concatenate([first.box, second.box]),
        start_ms=np.concatenate([first.start_ms, second.start_ms]),
        end_ms=np.concatenate([first.end_ms, second.end_ms]),
        setpoint_c=np.concatenate([first.setpoint_c, second.setpoint_c]),
    )

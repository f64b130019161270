"""Reefer alerts: a reefer's time to breach fell under the worker's bound.

A reefer's estimated cargo temperature follows a course from its last reading (or the start of
its wait for a plug) and leaves its band at a moment the thermal law gives in closed form
(`corridor.engine.live_view.ReeferBreach`). Its time to breach falls under the bound at
`crossed_at = max(course start, breach_at - bound)`.

Alerts are decided on a grid of event time (the KPI cadence, `KafkaSettings.kpi_every`): at
each boundary, once a yard's events up to it are applied and its clock is run to it (the live
twin calls `reach` before each event it applies and at each watermark move), every reefer of
the yard under the bound that was not under it at the previous boundary is alerted, and those
above it are re-armed. What the twin holds at a boundary depends on the events alone, not on
how the worker batched them, so the alerts are the same in every run; and a rebuilt twin takes
the same decisions again, so after a restart the worker knows which reefers were alerted
(`LiveTwin.rebuild` drops the alerts it decides again) and repeats none. A reefer under the
bound for less than one
step of the grid (15 min by default, the interval of the yards' telemetry) may go unalerted.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any, Protocol

from corridor.engine.clock import to_datetime
from corridor.engine.live_view import ReeferBreach, reefer_breaches
from corridor.engine.twin import Twin
from stations.yard import Yard
from streams.live.reorder import Micros, from_micros, to_micros


@dataclass(frozen=True, slots=True)
class ReeferAlert:
    """One crossing of the bound by one reefer (the `corridor.alerts` message)."""

    yard: str
    container_id: str
    bound_min: float
    crossed_at: datetime  # its time to breach fell to the bound (or its course began under it)
    breach_at: datetime  # its estimate leaves its band (before `crossed_at`: already over)
    seen_at: datetime  # the grid boundary at which it was decided

    @property
    def alert_id(self) -> str:
        """The same for the same crossing, so a consumer can drop a repeat after a crash."""
        return f"reefer-breach/{self.yard}/{self.container_id}/{self.crossed_at.isoformat()}"

    def message(self) -> dict[str, Any]:
        """The topic payload (times as RFC 3339), its time to breach as of `seen_at`."""
        left = (self.breach_at - self.seen_at) / timedelta(minutes=1)
        return {
            "type": "reefer.time_to_breach",
            "alert_id": self.alert_id,
            "yard": self.yard,
            "container_id": self.container_id,
            "bound_min": self.bound_min,
            "minutes_to_breach": round(max(0.0, left), 1),
            "crossed_at": self.crossed_at.isoformat(),
            "breach_at": self.breach_at.isoformat(),
            "seen_at": self.seen_at.isoformat(),
        }


class AlertSettings(Protocol):
    """The worker's settings the alerts read (`streams.settings.KafkaSettings` has them)."""

    @property
    def reefer_alert_within(self) -> timedelta: ...
    @property
    def kpi_every(self) -> timedelta: ...


@dataclass(slots=True)
class ReeferAlerts:
    """Per yard: the last boundary decided and the reefers under the bound there."""

    bound_min: float
    every: Micros  # the grid step
    pending: list[ReeferAlert] = field(default_factory=list)
    _decided: dict[str, Micros] = field(default_factory=dict)
    upcoming: dict[str, datetime] = field(default_factory=dict)
    """The next boundary per yard: an event after it needs `reach` first (read, not written,
    by the live twin's loop, which compares each event's time with it without a call)."""
    _under: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, settings: "AlertSettings") -> "ReeferAlerts":
        """Alerts under `reefer_alert_within`, decided every `kpi_every` of event time."""
        within, every = settings.reefer_alert_within, settings.kpi_every
        return cls(within / timedelta(minutes=1), every // timedelta(microseconds=1))

    def __post_init__(self) -> None:
        if not self.bound_min >= 0:
            raise ValueError(
                f"bound_min must be a non-negative number of minutes, got {self.bound_min}"
            )
        if self.every <= 0:
            raise ValueError(f"every must be a positive number of microseconds, got {self.every}")

    def reach(
        self, twin: Twin, yard: str, moment: Micros, *, inclusive: bool, zone: tzinfo | None = None
    ) -> None:
        """Decide every boundary of `yard` up to `moment` (before it unless `inclusive`): the
        yard's events before each boundary (up to `moment`) must be applied already.

        `zone` is the events' time zone: the next boundary (`upcoming`) is given in it, or
        in the zone it had without one, since the live twin compares every event's time with
        it, and aware datetimes that share a tzinfo object compare without asking it for
        offsets (about a hundred times faster than across zones)."""
        last = self._decided.get(yard)
        previous = self.upcoming.get(yard)
        if zone is None:
            zone = None if previous is None else previous.tzinfo
        if last is None:  # the yard's first event: nothing in it before
            last = self._decided[yard] = moment - moment % self.every
            self.upcoming[yard] = _in_zone(last + self.every, zone)
            return
        boundary = last + self.every
        if boundary < moment or (inclusive and boundary == moment):
            boundary = self._decide_up_to(twin, yard, boundary, moment, inclusive=inclusive)
        elif previous is not None and previous.tzinfo is zone:
            return  # no boundary passed: `upcoming` stands as it is
        self.upcoming[yard] = _in_zone(boundary, zone)

    def memory(self) -> tuple[dict[str, Micros], dict[str, set[str]]]:
        """Per yard the last boundary decided and the reefers under the bound there (a
        snapshot's part: `streams.live.state.AlertsState`)."""
        return dict(self._decided), {yard: set(ids) for yard, ids in self._under.items()}

    def remember(self, decided: dict[str, Micros], under: dict[str, set[str]]) -> None:
        """Take `memory()`'s state back (a restored live twin's alerts go on from it)."""
        self._decided = dict(decided)
        self.upcoming = {yard: from_micros(last + self.every) for yard, last in decided.items()}
        self._under = {yard: set(ids) for yard, ids in under.items()}

    def take(self) -> list[ReeferAlert]:
        """The alerts decided since the last call, in decision order."""
        taken, self.pending = self.pending, []
        return taken

    def _decide_up_to(
        self, twin: Twin, yard: str, boundary: Micros, moment: Micros, *, inclusive: bool
    ) -> Micros:
        """Run the yard's clock to each boundary from `boundary` up to `moment` and decide it
        there; returns the first boundary left undecided.

        Most boundaries find no reefer of the yard at risk and none under the bound at the
        one before (`Yard.reefers_at_risk`, `stations.reefer_risk`): nothing to alert and
        nothing to re-arm, so they skip the scan. The clock is run in model minutes worked
        out from the integer microseconds, exactly as `to_minutes(from_micros(boundary))`
        would (the difference's microseconds over 10**6, over 60), without those datetimes."""
        epoch = twin.epoch
        if epoch is None:
            raise ValueError("the twin has no epoch yet: no event applied")
        since_epoch = to_micros(epoch)
        held = twin.yards[yard]
        run_before, at_risk, under = held.env.run_before, held.reefers_at_risk, self._under
        while boundary < moment or (inclusive and boundary == moment):
            run_before((boundary - since_epoch) / 1_000_000 / 60.0)
            if at_risk or under.get(yard):
                self._decide(held, epoch, yard, boundary)
            elif yard not in under:
                under[yard] = set()  # (as a scan would leave it: a snapshot lists the yard)
            self._decided[yard] = boundary
            boundary += self.every
        return boundary

    def _decide(self, held: Yard, epoch: datetime, yard: str, boundary: Micros) -> None:
        """Alert the yard's reefers under the bound now that were not at the last boundary."""
        now = held.now
        before = self._under.get(yard, set())
        under = set()
        for breach in self._breaches(held, epoch):
            if breach.breach_at - now > self.bound_min:
                continue
            under.add(breach.container_id)
            if breach.container_id in before:
                continue
            crossed = max(breach.course_start, breach.breach_at - self.bound_min)
            self.pending.append(
                ReeferAlert(
                    yard,
                    breach.container_id,
                    self.bound_min,
                    to_datetime(crossed, epoch),
                    to_datetime(breach.breach_at, epoch),
                    from_micros(boundary),
                )
            )
        self._under[yard] = under

    def _breaches(self, held: Yard, epoch: datetime) -> list[ReeferBreach]:
        """The yard's reefers heading out of their band (the tests' oracle scans them all)."""
        return reefer_breaches(held, epoch)


def _in_zone(moment: Micros, zone: tzinfo | None) -> datetime:
    """The datetime of `moment` in `zone` when it is a fixed offset (as event times are), else
    in UTC: one tzinfo with daylight saving would compare wall times, not instants."""
    at = from_micros(moment)
    return at.astimezone(zone) if isinstance(zone, timezone) and zone is not UTC else at

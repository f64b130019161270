"""The reefer alerts' scan as it was before the reefers at risk (`stations.reefer_risk`): over
every monitored reefer of a yard; and their boundaries as they were before most of them skipped
it (`ScanningAlerts`). Kept as the tests' oracles for `reefer_breaches` and `ReeferAlerts.reach`."""

import dataclasses
import math
from datetime import datetime, tzinfo

import msgspec

from corridor.engine.clock import to_datetime
from corridor.engine.live_view import ReeferBreach
from corridor.engine.twin import Twin
from corridor.scenario import load_scenario
from stations.spec import StationSpec
from stations.yard import Yard
from streams.live.reefer_alerts import ReeferAlerts, _in_zone
from streams.live.reorder import Micros, from_micros

PLUGS = 3  # per yard: most reefers wait for a plug, unpowered meanwhile


def crowded() -> dict[str, StationSpec]:
    """The baseline yards with `PLUGS` reefer plugs each, under a constant 35 °C sky."""
    stations = {}
    for sid, spec in load_scenario(None).stations.items():
        reefer = msgspec.structs.replace(spec.reefer, ambient_monthly_c=(35.0,) * 12)
        stack = msgspec.structs.replace(spec.stack, reefer_plugs=PLUGS)
        stations[sid] = dataclasses.replace(spec, reefer=reefer, stack=stack)
    return stations


def scan_every_reefer(yard: Yard, epoch: datetime) -> list[ReeferBreach]:
    """`reefer_breaches` as it was before the reefers at risk: over every monitored reefer."""
    ambient_c = yard.spec.reefer.ambient_c(yard.spec.local_month(to_datetime(yard.now, epoch)))
    breaches = []
    boxes = yard.boxes
    isnan = math.isnan
    for container_id, box in yard.monitored.items():
        monitor = box.reefer_monitor
        if monitor is None or monitor.last is None or boxes.get(container_id) is not box:
            continue  # (a box replaced under its number by another's arrival is not there)
        request = box.plug_request
        waiting = (
            None if request is None or request.triggered or isnan(box.stacked) else box.stacked
        )
        if monitor.off_since is None and waiting is None:  # powered: over now, or never
            deviation = abs(monitor.last.supply_c - monitor.setpoint_c)
            if deviation < monitor.threshold_c(monitor.setpoint_c):
                continue
        breach = monitor.breach_at(ambient_c, waiting)
        if breach is not None:
            course = monitor.course(waiting)
            start = breach if course is None else course.start
            breaches.append(ReeferBreach(box.container_id, start, breach))
    breaches.sort(key=lambda known: known.container_id)
    return breaches


class ScanningAlerts(ReeferAlerts):
    """The reefer alerts as they were before a boundary skipped its scan: at every boundary
    the yard's clock is run to it by `Twin.advance_yard` (through datetimes) and every
    monitored reefer is scanned (`scan_every_reefer`). The oracle of `reach`."""

    __slots__ = ()

    def reach(
        self, twin: Twin, yard: str, moment: Micros, *, inclusive: bool, zone: tzinfo | None = None
    ) -> None:
        last = self._decided.get(yard)
        if zone is None:
            previous = self.upcoming.get(yard)
            zone = None if previous is None else previous.tzinfo
        if last is None:
            last = self._decided[yard] = moment - moment % self.every
            self.upcoming[yard] = _in_zone(last + self.every, zone)
            return
        boundary = last + self.every
        while boundary < moment or (inclusive and boundary == moment):
            twin.advance_yard(yard, from_micros(boundary))
            assert twin.epoch is not None
            self._decide(twin.yards[yard], twin.epoch, yard, boundary)
            self._decided[yard] = boundary
            boundary += self.every
        self.upcoming[yard] = _in_zone(boundary, zone)

    def _breaches(self, held: Yard, epoch: datetime) -> list[ReeferBreach]:
        return scan_every_reefer(held, epoch)

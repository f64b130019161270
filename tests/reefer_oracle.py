"""The reefer alerts' scan as it was before the reefers at risk (`stations.reefer_risk`): over
every monitored reefer of a yard. Kept as the tests' oracle for `reefer_breaches`."""

import math
from datetime import datetime

from corridor.engine.clock import to_datetime
from corridor.engine.live_view import ReeferBreach
from stations.yard import Yard


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

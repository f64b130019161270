"""Reefers at risk: the monitored reefers whose estimated cargo temperature may leave its band.

A reefer that is powered, has its plug, and last read within its band holds its temperature:
on its present course it never breaches, and only a change can put it at risk, a reading
(power lost, or the supply air out of band) or a wait for a plug as it is stacked. So the yard
keeps the container numbers of the others (`Yard.reefers_at_risk`), updated at those changes,
and the reefer alerts' scan at every 15-minute boundary of event time
(`corridor.engine.live_view.reefer_breaches`) reads the handful at risk instead of every
monitored reefer (the alerts, that scan with the rest of their work at the boundaries, were a
seventh of a live twin's instructions: `docs/performance.md`).

The set may hold more than the reefers at risk, never fewer: a box granted its plug, or gone,
stays in it until the scan finds it safe and drops it (`at_risk` decides, the same test the
scan of every monitored reefer made). It is not part of a yard snapshot: a restored yard works
it out again from its boxes (`rebuilt`).
"""

import math

from simpy.events import PENDING

from stations.box import Box
from stations.reefers import Reading
from stations.yard import Yard


def at_risk(yard: Yard, box: Box) -> bool:
    """Is the yard's box under this number heading out of its band, or already out? Off power,
    waiting for a plug, or its last supply air reading outside setpoint ± threshold
    (`ReeferMonitor.in_band`, kept as it observes: a NaN reading counts as outside)."""
    monitor = box.reefer_monitor
    if monitor is None or monitor.last is None or yard.boxes.get(box.container_id) is not box:
        return False
    return monitor.off_since is not None or waiting_for_plug(box) or not monitor.in_band


def waiting_for_plug(box: Box) -> bool:
    """Stacked and still waiting for a plug (unpowered meanwhile)."""
    request = box.plug_request
    return request is not None and not request.triggered and not math.isnan(box.stacked)


def reading_taken(yard: Yard, box: Box, reading: Reading) -> None:
    """The yard's box took `reading` (its monitor has observed it): at risk or not from now
    on, as `at_risk` would say, in the fewest steps (two events in three are readings, in the
    engine alone too)."""
    request = box.plug_request
    monitor = box.reefer_monitor
    if (
        reading.power_on  # so its monitor's `off_since` is None
        and monitor is not None
        and monitor.in_band
        and (request is None or request._value is not PENDING)  # `triggered`, without a call
    ):
        yard.reefers_at_risk.discard(box.container_id)
    else:
        yard.reefers_at_risk.add(box.container_id)


def plug_awaited(yard: Yard, box: Box) -> None:
    """The stacked box asked for a plug and none was free: unpowered until one is."""
    yard.reefers_at_risk.add(box.container_id)


def rebuilt(yard: Yard) -> set[str]:
    """The reefers at risk of a yard put together without the changes (a restored one)."""
    return {number for number, box in yard.monitored.items() if at_risk(yard, box)}

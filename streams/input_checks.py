"""Checks on valid input the worker makes before it trusts it: future times, odd but applied.

- **Event time is bounded by the wall clock** (live only): an event stamped more than
  `KafkaSettings.max_future_skew` ahead of now is dead-lettered `rejected:ts_future`. Applied,
  it would move the watermark and every yard clock there, and every honest event after it would
  wait in the reorder buffer for ever. Replaying a log has no wall clock and no such check.
- **Old repeats are looked up in the archive**: an event older than the live twin's memory
  (`LiveTwin.is_stale`) is refused `duplicate` if the store archived its id already.
- **Flagged, not silent**: a truck whose gate-out is stamped before its gate-in, and a message
  whose key is not the event's yard (it may sit on another yard's partition, out of order
  with it), are applied as they are but counted (`InputFlags`): in the store, in `/metrics`
  and, once per kind per report interval, in the worker's log.
"""

import logging
from collections import Counter, OrderedDict
from datetime import timedelta

from corridor.contract.events import Event, TruckGateIn, TruckGateOut
from corridor.store_contract import TwinStore
from streams.dead_letters import DUPLICATE
from streams.live.reorder import Micros, from_micros, to_micros
from streams.live.twin import LiveTwin

log = logging.getLogger(__name__)

TS_FUTURE = "rejected:ts_future"
GATE_OUT_BEFORE_GATE_IN = "gate_out_before_gate_in"
KEY_NOT_YARD = "key_not_yard"
FLAG_KINDS = (GATE_OUT_BEFORE_GATE_IN, KEY_NOT_YARD)
OPEN_MILESTONES = 100_000  # trucks remembered with one gate milestone seen (oldest forgotten)
GATE_MILESTONES = (TruckGateIn, TruckGateOut)  # a tuple: `isinstance` on a union is slower


def future_detail(event: Event, horizon: Micros, ts: Micros | None = None) -> str | None:
    """Why `event` (at `ts`, its time converted, if given) is too far in the future (stamped
    after `horizon`), or None."""
    if (to_micros(event.ts) if ts is None else ts) <= horizon:
        return None
    return f"ts {event.ts.isoformat()} is beyond the wall clock plus the allowed skew"


def refusal(
    event: Event, horizon: Micros, live: LiveTwin, store: TwinStore, ts: Micros | None = None
) -> tuple[str, str] | None:
    """Why an event that decoded is refused before it is admitted, as (reason, detail), or None.

    Stamped after `horizon` (the wall clock plus the allowed skew); or older than what the live
    twin remembers (`LiveTwin.is_stale`) and already in the store's archive: a repeat the
    twin's own id set has forgotten. `ts` is `to_micros(event.ts)` if the caller has it.
    """
    if ts is None:
        ts = to_micros(event.ts)
    too_late = future_detail(event, horizon, ts)
    if too_late is not None:
        return TS_FUTURE, too_late
    if live.is_behind_window(ts) and store.archived(event.event_id, event.ts):
        return (
            DUPLICATE,
            f"event_id {event.event_id!r} is in the archive (older than the twin's window)",
        )
    return None


def yards_ahead(live: LiveTwin, received: Micros | None, lateness: timedelta) -> dict[str, float]:
    """Yards whose clock is ahead of the newest accepted input by more than `lateness` (seconds).

    Such a yard applies every event it gets late, at its own clock: an event from the future
    was archived before the wall-clock bound existed, or the inputs went back in time.
    """
    twin = live.twin
    if twin is None or received is None:
        return {}
    newest = from_micros(received)
    ahead = {yard: twin.clock(yard) - newest for yard in twin.yards}
    return {yard: by.total_seconds() for yard, by in ahead.items() if by > lateness}


class InputFlags:
    """Counts of valid but suspicious inputs: for the next commit and for the next log line.

    The accept path (`streams.intake`) checks each accepted event inline: `flag` when its key
    is not its yard, `gate` for a truck's gate milestone."""

    def __init__(self) -> None:
        self.total: Counter[str] = Counter()
        self._uncommitted: Counter[str] = Counter()
        self._unlogged: Counter[str] = Counter()
        self._milestones: OrderedDict[tuple[str, str], tuple[str, Micros]] = OrderedDict()

    def take_uncommitted(self) -> dict[str, int]:
        """The counts since the last call (what the next commit adds to the store's)."""
        taken, self._uncommitted = dict(self._uncommitted), Counter()
        return taken

    def report(self) -> None:
        """Log each kind seen since the last report once, with its count."""
        for kind, count in sorted(self._unlogged.items()):
            log.warning("flagged input: %s x%d (%d since start)", kind, count, self.total[kind])
        self._unlogged.clear()

    def flag(self, kind: str) -> None:
        """Count one odd input of `kind` (a key that is not the event's yard, say)."""
        self.total[kind] += 1
        self._uncommitted[kind] += 1
        self._unlogged[kind] += 1

    def gate(self, event: TruckGateIn | TruckGateOut, ts: Micros) -> None:
        """Compare a truck's gate-in and gate-out times (`ts`: its time converted) once both
        were seen (either order)."""
        milestone = "in" if isinstance(event, TruckGateIn) else "out"
        truck = (event.yard, event.truck_id)
        other = self._milestones.pop(truck, None)
        if other is None or other[0] == milestone:
            self._milestones[truck] = (milestone, ts)
            if len(self._milestones) > OPEN_MILESTONES:
                self._milestones.popitem(last=False)
            return
        gate_in, gate_out = (ts, other[1]) if milestone == "in" else (other[1], ts)
        if gate_out < gate_in:
            self.flag(GATE_OUT_BEFORE_GATE_IN)

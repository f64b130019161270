"""The worker's accept path: one pass over a consumed batch, from each message to the buffer.

For each message of a `consume` call, in order: its error (a partition's end, or broker
trouble: `streams.broker_watch`), its offset, `decode_event`, the checks of
`streams.input_checks` (the wall-clock bound, old repeats in the archive, the flags),
`LiveTwin.admit` and its archive entry; a message that does not decode, is refused or repeats
an `event_id` is dead-lettered, and whatever raises while one message is handled dead-letters
that message (`internal:<ExceptionName>`).

Why one loop of its own: the worker runs it for every message it ever reads, and as a chain
of calls (a method to accept a message, one per check, one per flag, a named tuple for the held
event and for the archive entry, a time conversion each) it cost the worker's main thread
about 6 µs a message, half the engine's own cost for the event (`docs/performance.md`). Here
what is the same for a whole batch is found once per batch (the wall-clock horizon, the edge
of the twin's window, the epoch in the events' zone), the common case of each check is one
comparison inline (the function that words a refusal is called only when it may refuse), and
the archive entry is made as a tuple without its class's Python constructor. The outcome is
the same, message by message, as the chain's: the same dead letters in the same order, the
same flags, the same events held and archived.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Protocol

from confluent_kafka import KafkaError

from corridor.contract.events import DecodeError, decode_event
from corridor.engine.clock import in_zone_of
from corridor.store_contract import ArchivedEvent, TwinBatch, TwinStore
from streams import dead_letters
from streams.input_checks import GATE_MILESTONES, KEY_NOT_YARD, InputFlags, refusal
from streams.live.reorder import UNIX_EPOCH, Micros, to_micros
from streams.live.twin import LiveTwin, Origin
from streams.live.watermark import Partition, WatermarkTracker
from streams.outputs_sink import Letter
from streams.ports import InputMessage, held_origin, origin_of

_MICROSECOND = timedelta(microseconds=1)
_new_tuple = tuple.__new__
"""`_new_tuple(ArchivedEvent, fields)`: an archive entry from its fields' tuple, in C (its named
tuple's `__new__` is Python code; through `functools.partial` it cost a sixth more)."""


class Erring(Protocol):
    """Where the consumer's errors go (`streams.broker_watch.BrokerWatch`)."""

    def on_error(self, error: KafkaError) -> None: ...


class Accepting(Protocol):
    """What the accept path reads and calls of its worker (`streams.worker.Worker`)."""

    live: LiveTwin
    flags: InputFlags
    store: TwinStore
    tracker: WatermarkTracker
    skew: Micros  # how far ahead of the wall clock an event may be stamped
    received: Micros | None  # the newest event time accepted since start (written back)

    @property
    def watch(self) -> Erring: ...
    def now(self) -> datetime: ...
    def dead(
        self, letters: list[Letter], reason: str, detail: str, origin: Origin, raw: bytes
    ) -> None: ...
    def internal(
        self, error: Exception, letters: list[Letter], where: Partition, offset: int, raw: bytes
    ) -> None: ...


class Intake:
    """A worker's accept path (the module's): `take` one consumed batch."""

    def __init__(self, worker: Accepting) -> None:
        self.worker = worker
        self._zone: tzinfo | None = None  # the zone of the last event time converted
        self._epoch = UNIX_EPOCH  # 1970 in that zone: one zone's times subtract without offsets

    def take(
        self, messages: Sequence[InputMessage], batch: TwinBatch, letters: list[Letter]
    ) -> int:
        """Accept one batch into the live twin and `batch`; the number of messages consumed."""
        worker = self.worker
        live, flags, store, dead = worker.live, worker.flags, worker.store, worker.dead
        admit, archived, offsets = live.admit, batch.archived, batch.offsets
        newest: dict[Partition, Micros] = {}  # per partition, for the tracker after the loop
        horizon = to_micros(worker.now()) + worker.skew
        edge = None if live.watermark is None else live.watermark - live.retention  # window
        zone, epoch, errors = self._zone, self._epoch, 0
        for message in messages:
            error = message.error()
            if error is not None:
                errors += 1
                self._error(message, error, newest)
                continue
            topic, partition = message.topic() or "", message.partition() or 0
            offset = message.offset() or 0
            where = (topic, partition)
            offsets[where] = offset + 1
            raw = message.value() or b""
            try:
                event = decode_event(raw)
                if isinstance(event, DecodeError):
                    reason = dead_letters.decode_reason(event)
                    dead(letters, reason, str(event), held_origin(message), raw)
                    continue
                moment = event.ts
                if moment.tzinfo is not zone:
                    zone, epoch = moment.tzinfo, in_zone_of(moment, UNIX_EPOCH)
                ts = (moment - epoch) // _MICROSECOND  # `to_micros`, the zone's epoch kept
                if ts > horizon or (edge is not None and ts < edge):  # may be refused
                    refused = refusal(event, horizon, live, store, ts)
                    if refused is not None:
                        dead(letters, *refused, held_origin(message), raw)
                        continue
                if message.key() != event.yard.encode():  # `InputFlags`, inline
                    flags.flag(KEY_NOT_YARD)
                if isinstance(event, GATE_MILESTONES):
                    flags.gate(event, ts)
                if admit(event, raw, message, ts) is None:  # origin read only if it is refused
                    detail = f"event_id {event.event_id!r} was accepted before"
                    dead(letters, dead_letters.DUPLICATE, detail, held_origin(message), raw)
                    continue
                archived.append(
                    _new_tuple(
                        ArchivedEvent,
                        (event.event_id, event.yard, moment, raw, topic, partition, offset),
                    )
                )
            except Exception as failure:  # this message's failure, not the worker's
                worker.internal(failure, letters, where, offset, raw)
                continue
            if ts > newest.get(where, ts - 1):
                newest[where] = ts
        self._zone, self._epoch = zone, epoch
        self._delivered(newest)
        return len(messages) - errors

    def _delivered(self, newest: dict[Partition, Micros]) -> None:
        """Tell the tracker the newest time each partition delivered, and the worker the
        newest time accepted (`received`): once, not per message."""
        worker = self.worker
        for where, ts in newest.items():
            worker.tracker.delivered(where, ts)
        if newest:
            latest = max(newest.values())
            if worker.received is None or latest > worker.received:
                worker.received = latest
        newest.clear()

    def _error(
        self, message: InputMessage, error: KafkaError, newest: dict[Partition, Micros]
    ) -> None:
        if error.code() == KafkaError._PARTITION_EOF:
            topic, partition, _offset = origin_of(message)
            self._delivered(newest)  # what came before the end, in order, as message by message
            self.worker.tracker.reached_end((topic, partition))
        else:
            self.worker.watch.on_error(error)

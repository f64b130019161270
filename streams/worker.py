"""`corridor worker`: the live twin on Kafka, from the yards' topics to the store.

One loop, one batch at a time: consume up to `batch_size` messages from the assigned input
partitions, decode each (`corridor.contract.events.decode_event`), dead-letter what does not decode
or repeats an `event_id`, admit the rest to the live twin's reorder buffer (`streams.live.twin`),
move the watermark (`streams.live.watermark`), take KPI snapshots on the event-time cadence, produce
dead letters and snapshots, and commit the archive, offsets and outputs in one `TwinStore`
transaction. On start the twin is rebuilt by replaying the archive, and the partitions are
assigned at the stored offsets, so after a crash the worker resumes exactly where its outputs
end. See `docs/streams.md` for the rules.
"""

import logging
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from confluent_kafka import OFFSET_BEGINNING, KafkaError, Message, TopicPartition

from corridor.contract.events import DecodeError, decode_event
from corridor.store_contract import ArchivedEvent, ClockAdvance, TwinBatch, TwinStore
from stations.spec import StationSpec
from streams import dead_letters
from streams.broker_watch import BrokerLoss, BrokerWatch
from streams.clients import ensure_topics, make_admin, make_consumer, make_producer, partitions_of
from streams.commits import OrderedCommits
from streams.dead_letters import RawHeaders
from streams.live.reorder import Micros, from_micros
from streams.live.snapshots import kpi_snapshots, yard_views
from streams.live.twin import LiveTwin, Origin, Source
from streams.live.watermark import Partition, WatermarkTracker
from streams.outputs_sink import Letter, OutputSink
from streams.settings import KafkaSettings

log = logging.getLogger(__name__)
_MICROSECOND = timedelta(microseconds=1)
STATE_EVERY_S = 1.0  # live: yard states and reefers refreshed at most this often


def utc_now() -> datetime:
    """The wall clock, aware (only for `computed_at` and progress logs)."""
    return datetime.now(UTC)


@dataclass(slots=True)
class WorkerStats:
    """What the worker did since it started (not persisted; the store has the outputs)."""

    rebuilt: int = 0
    consumed: int = 0
    archived: int = 0
    advances: int = 0
    snapshots: int = 0
    batches: int = 0
    dead_letters: Counter[str] = field(default_factory=Counter)
    broker_losses: list[BrokerLoss] = field(default_factory=list)
    seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    """Wall time by phase (see `PHASES`): where a catch-up goes, for the log and benchmarks."""


PHASES = ("consume", "decode", "engine", "snapshots", "deliver", "commit")
"""consume: the broker client; decode: decode, dedup, buffer and archive entries; engine:
applying released events and running the clocks (plus draining records and yard views);
snapshots: KPI snapshots; deliver: producing and flushing dead letters and snapshots; commit:
waiting for the store transaction (while catching up it runs beside the next batch, see
`streams.commits`, so this is only the part the worker waited for)."""


class Worker:
    """The live twin's consume-apply-commit loop over explicitly assigned partitions."""

    def __init__(
        self,
        settings: KafkaSettings,
        store: TwinStore,
        stations: Mapping[str, StationSpec],
        seed: int,
    ) -> None:
        self.settings = settings
        self.store = store
        self.commits = OrderedCommits(store)
        self.live = LiveTwin(stations, seed)
        self.stats = WorkerStats()
        self.lateness: Micros = settings.lateness // _MICROSECOND
        self.cadence: Micros = settings.kpi_every // _MICROSECOND
        self.admin = make_admin(settings)
        ensure_topics(self.admin, settings, settings.all_topics)
        self.watch = BrokerWatch(self.admin, settings)
        self.consumer = make_consumer(settings, on_error=self.watch.on_error)
        self.sink = OutputSink(make_producer(settings, on_error=self.watch.on_error), settings)
        self.positions: dict[Partition, int] = {}
        self.known_end: dict[Partition, int] = {}
        self.tracker = WatermarkTracker([])
        self._forced_offsets: dict[Partition, int] = {}
        self._last_input = time.monotonic()
        self._last_snapshot_wall = float("-inf")
        self._snapshot_cost = 0.0
        self._last_views_wall = float("-inf")
        self._last_snapshot_at: Micros | None = None
        self._started = False

    def start(self) -> None:
        """Rebuild the twin from the archive, then assign the input partitions at stored offsets."""
        began = time.perf_counter()
        self.stats.rebuilt = self.live.rebuild(self.store.load_archive())
        if self.live.twin is not None:
            self.live.twin.drain()  # committed before the restart
        log.info(
            "rebuilt the twin from %d archive entries in %.1f s",
            self.stats.rebuilt,
            time.perf_counter() - began,
        )
        stored = self.store.load_offsets(self.settings.group_id)
        self._assign(partitions_of(self.admin, self.settings.input_topics), stored)
        self._started = True

    def run(
        self, stop: threading.Event | None = None, *, idle_exit_s: float | None = None
    ) -> WorkerStats:
        """Loop until `stop` is set (or, with `idle_exit_s`, until quiet that long and flushed)."""
        if not self._started:
            self.start()
        stop = stop or threading.Event()
        last_report = time.monotonic()
        while not stop.is_set():
            self.step()
            if time.monotonic() - last_report >= 10.0:
                self._report()
                last_report = time.monotonic()
            if idle_exit_s is not None and self.idle_for() >= idle_exit_s:
                break
        self.commits.wait()
        self._report()
        return self.stats

    def idle_for(self) -> float:
        """Seconds since the last input, once everything is caught up and released (else 0)."""
        if not self.tracker.all_at_end() or len(self.live.buffer) or self.commits.pending:
            return 0.0
        return time.monotonic() - self._last_input

    def step(self) -> int:
        """Consume, apply and commit one batch; returns the number of messages consumed.

        After the broker reported trouble no message is trusted until its topics are verified
        (`_recover`): a restarted broker may serve a recreated topic at the old offsets.
        """
        if self.watch.suspect:
            self._recover()
            return 0
        seconds, began = self.stats.seconds, time.perf_counter()
        messages = self.consumer.consume(
            self.settings.batch_size, timeout=self.settings.poll_timeout_s
        )
        if self.watch.suspect:  # reported during this fetch: read the batch again once verified
            self._assign(sorted(self.positions), self.positions)
            return 0
        taken = time.perf_counter()
        seconds["consume"] += taken - began
        batch = TwinBatch(self.settings.group_id, offsets={})
        letters: list[Letter] = []
        consumed = self._take(messages, batch, letters)
        moved = time.perf_counter()
        seconds["decode"] += moved - taken
        catching_up = len(messages) >= self.settings.batch_size
        self._move_watermark(batch, letters, catching_up=catching_up)
        seconds["engine"] += time.perf_counter() - moved  # less the snapshots, counted apart
        self._finish(batch, letters, catching_up=catching_up)
        return consumed

    def close(self) -> None:
        """Store the last commit, flush outputs and leave the broker."""
        self.commits.close()
        self.sink.flush()
        self.consumer.close()

    def _take(self, messages: list[Message], batch: TwinBatch, letters: list[Letter]) -> int:
        consumed = 0
        live, offsets, archived = self.live, batch.offsets, batch.archived
        newest: dict[Partition, Micros] = {}  # per partition, for the tracker after the loop
        for message in messages:
            error = message.error()
            if error is not None:
                self._message_error(message, error, newest)
                continue
            consumed += 1
            topic, partition, offset = (
                message.topic() or "",
                message.partition() or 0,
                message.offset() or 0,
            )
            where = (topic, partition)
            offsets[where] = offset + 1
            raw = message.value() or b""
            event = decode_event(raw)
            if isinstance(event, DecodeError):
                reason = dead_letters.decode_reason(event)
                self._dead(letters, reason, str(event), where, offset, raw, message)
                continue
            ts = live.admit(event, raw, message)  # its origin is read only if it is refused
            if ts is None:
                detail = f"event_id {event.event_id!r} was accepted before"
                self._dead(letters, dead_letters.DUPLICATE, detail, where, offset, raw, message)
                continue
            archived.append(
                ArchivedEvent(event.event_id, event.yard, event.ts, raw, topic, partition, offset)
            )
            if ts > newest.get(where, ts - 1):
                newest[where] = ts
        self._delivered(newest)
        if consumed:
            self.positions.update(offsets)
            self._last_input = time.monotonic()
            self.stats.consumed += consumed
            self.stats.archived += len(archived)
        return consumed

    def _delivered(self, newest: dict[Partition, Micros]) -> None:
        """Tell the tracker the newest time each partition delivered (once, not per message)."""
        for where, ts in newest.items():
            self.tracker.delivered(where, ts)
        newest.clear()

    def _message_error(
        self, message: Message, error: KafkaError, newest: dict[Partition, Micros]
    ) -> None:
        if error.code() == KafkaError._PARTITION_EOF:
            topic, partition, _offset = _origin(message)
            self._delivered(newest)  # what came before the end, in order, as message by message
            self.tracker.reached_end((topic, partition))
        else:
            self.watch.on_error(error)

    def _dead(
        self,
        letters: list[Letter],
        reason: str,
        detail: str,
        where: Partition,
        offset: int,
        raw: bytes,
        message: Message | None,
    ) -> None:
        letter = dead_letters.dead_letter(reason, detail, where[0], where[1], offset, raw)
        key = message.key() if message is not None else None
        headers = _headers(message) if message is not None else None
        letters.append(Letter(letter, key, headers))
        self.stats.dead_letters[reason] += 1

    def _move_watermark(
        self, batch: TwinBatch, letters: list[Letter], *, catching_up: bool
    ) -> None:
        """Advance to the watermark, stopping at a cadence boundary to take a snapshot there."""
        live = self.live
        target = self.tracker.watermark(self.lateness)
        quiet = live.newest is not None and self._quiet()
        if quiet:
            target = live.newest
        if target is None or (live.watermark is not None and target <= live.watermark):
            return
        boundary = target - target % self.cadence
        take = self._snapshot_due(boundary, catching_up)
        if take and (live.watermark is None or boundary > live.watermark):
            self._advance(boundary, batch, letters)
            self._snapshot(boundary, batch)
        if live.watermark is None or target > live.watermark:
            self._advance(target, batch, letters)
        if quiet and (self._last_snapshot_at is None or target > self._last_snapshot_at):
            self._snapshot(target, batch)
        if live.twin is not None:
            batch.records = live.twin.drain()
        fresh = time.monotonic() - self._last_views_wall < STATE_EVERY_S
        if not (catching_up or batch.yard_states or fresh):
            batch.yard_states, batch.reefers = yard_views(live)
            self._last_views_wall = time.monotonic()

    def _quiet(self) -> bool:
        idle = time.monotonic() - self._last_input >= self.settings.quiet_after_s
        return idle and self.tracker.all_at_end()

    def _snapshot_due(self, boundary: Micros, catching_up: bool) -> bool:
        """Is a snapshot at this cadence boundary worth its cost now?

        Live, at most one per batch (the latest boundary crossed), and never more than half the
        worker's time; while catching up (full batches), at most one per `catchup_kpi_every_s`
        and never more than a tenth of its time, so a backlog is not slowed by KPIs nobody
        reads yet. Values do not depend on which boundaries are taken.
        """
        if self._last_snapshot_at is not None and boundary <= self._last_snapshot_at:
            return False
        waited = time.monotonic() - self._last_snapshot_wall
        if not catching_up:
            return waited >= self._snapshot_cost
        return waited >= max(self.settings.catchup_kpi_every_s, 10 * self._snapshot_cost)

    def _advance(self, moment: Micros, batch: TwinBatch, letters: list[Letter]) -> None:
        for rejection in self.live.advance(moment):
            held, origin = rejection.held, _origin_of(rejection.held.origin)
            letter = dead_letters.dead_letter(
                dead_letters.rejection_reason(rejection.error),
                str(rejection.error),
                origin.topic,
                origin.partition,
                origin.offset,
                held.raw,
            )
            letters.append(Letter(letter, origin.key, origin.headers))
            self.stats.dead_letters[letter.reason] += 1
        batch.archived.append(ClockAdvance(from_micros(moment)))
        self.stats.advances += 1

    def _snapshot(self, moment: Micros, batch: TwinBatch) -> None:
        began = time.monotonic()
        snapshots = kpi_snapshots(self.live, moment, utc_now())
        cost = time.monotonic() - began
        self.stats.seconds["snapshots"] += cost
        self.stats.seconds["engine"] -= cost
        if not snapshots:
            return
        self._snapshot_cost = cost
        batch.snapshots.extend(snapshots)
        batch.yard_states, batch.reefers = yard_views(self.live)
        self._last_views_wall = time.monotonic()
        self._last_snapshot_at = moment
        self._last_snapshot_wall = time.monotonic()
        self.stats.snapshots += len(snapshots)

    def _finish(self, batch: TwinBatch, letters: list[Letter], *, catching_up: bool) -> None:
        batch.dead_letters = [item.letter for item in letters]
        if self._forced_offsets:
            batch.offsets = {**self._forced_offsets, **batch.offsets}
            self._forced_offsets = {}
        if not (batch.offsets or batch.archived or batch.dead_letters or batch.snapshots):
            return
        began = time.perf_counter()
        self.sink.send(letters, batch.snapshots)
        self.sink.flush(between=self._recover_outputs)
        batch.lag = self._lag()
        delivered = time.perf_counter()
        self.commits.commit(batch, background=catching_up)  # see `streams.commits`
        self.stats.seconds["deliver"] += delivered - began
        self.stats.seconds["commit"] += time.perf_counter() - delivered
        self.stats.batches += 1

    def _recover_outputs(self) -> None:
        """While outputs wait for delivery: a broker that lost the output topics gets them back."""
        if self.watch.suspect:
            ensure_topics(self.admin, self.settings, self.settings.all_topics, timeout_s=2.0)

    def _lag(self) -> int | None:
        """Messages known to wait on the input partitions (None if a partition's end is unknown)."""
        total: int | None = 0
        for where, position in self.positions.items():
            _low, high = self.consumer.get_watermark_offsets(TopicPartition(*where), cached=True)
            if high < 0:
                total = None
                continue
            self.known_end[where] = high
            if total is not None:
                total += max(0, high - position)
        return total

    def _assign(self, partitions: list[Partition], stored: Mapping[Partition, int]) -> None:
        self.positions = {where: stored.get(where, 0) for where in partitions}
        self.tracker.reset(partitions)
        self.consumer.assign(
            [
                TopicPartition(topic, partition, stored.get((topic, partition), OFFSET_BEGINNING))
                for topic, partition in partitions
            ]
        )
        log.info("assigned %s", {f"{t}[{p}]": self.positions[(t, p)] for t, p in partitions})

    def _recover(self) -> None:
        """Verify the topics; resume recreated input topics from their start, report the loss."""
        changed = self.watch.changed_topics()
        if changed is None:
            time.sleep(self.settings.poll_timeout_s)
            return
        inputs = [topic for topic in changed if topic in self.settings.input_topics]
        for (topic, partition), position in sorted(self.positions.items()):
            if topic in inputs:
                end = max(self.known_end.get((topic, partition), 0), position)
                loss = BrokerLoss(topic, partition, position, end)
                self.stats.broker_losses.append(loss)
                log.warning(
                    "broker lost %s[%d]: read up to offset %d of %d, %d unread messages lost; "
                    "resuming from the recreated topic's first offset",
                    topic, partition, loss.read_up_to, loss.known_end, loss.lost,
                )  # fmt: skip
        partitions = partitions_of(self.admin, self.settings.input_topics)
        restart = {where: 0 for where in partitions if where[0] in inputs}
        self._forced_offsets.update(restart)
        kept = {where: self.positions.get(where, 0) for where in partitions}
        self._assign(partitions, {**kept, **restart})

    def _report(self) -> None:
        watermark = self.live.watermark
        phases = ", ".join(f"{name} {self.stats.seconds[name]:.1f}" for name in PHASES)
        log.info(
            "consumed %d, archived %d, dead letters %s, buffer %d, watermark %s, late %d; "
            "seconds in %s",
            self.stats.consumed,
            self.stats.archived,
            dict(self.stats.dead_letters),
            len(self.live.buffer),
            from_micros(watermark).isoformat() if watermark is not None else "-",
            self.live.twin.counts.late if self.live.twin is not None else 0,
            phases,
        )


def _origin(message: Message | Source) -> tuple[str, int, int]:
    """Topic, partition and offset of a consumed message (always set on one)."""
    return message.topic() or "", message.partition() or 0, message.offset() or 0


def _origin_of(source: Origin | Source | None) -> Origin:
    """The origin of a held event: given on rebuild, else read from its message now."""
    if source is None:
        return Origin("", -1, -1)
    if isinstance(source, Origin):
        return source
    topic, partition, offset = _origin(source)
    return Origin(topic, partition, offset, source.key(), _headers(source))


def _headers(message: Message | Source) -> RawHeaders | None:
    headers = message.headers()
    if isinstance(headers, dict):
        return list(headers.items())
    return headers

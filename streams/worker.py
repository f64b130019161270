"""`corridor worker`: the live twin on Kafka, from the yards' topics to the store.

One loop, one batch at a time: consume up to `batch_size` messages from the assigned input
partitions, decode each (`corridor.contract.events.decode_event`), dead-letter what does not decode,
repeats an `event_id` or is stamped too far ahead of the wall clock (`streams.input_checks`),
admit the rest to the live twin's reorder buffer (`streams.live.twin`), all in one pass over
the batch (`streams.intake`), pause partitions far ahead of the slowest (`streams.alignment`),
move the watermark (`streams.live.watermark`), take
KPI snapshots when `streams.snapshot_policy` says so, produce dead letters and snapshots, and
commit the archive, offsets and outputs in one `TwinStore` transaction. No single message can
stop the loop: whatever raises while one message is handled dead-letters that message
(`internal:<ExceptionName>`); only the store and the broker can stop it. On start the twin is
rebuilt from the archive, and the partitions are assigned at the stored offsets (a group member
loads those it is given: `streams.rebalance`), so after a crash the worker resumes exactly where
its outputs end. The Kafka clients are given (`streams.connect` builds them); broker trouble is
handled by `streams.broker_recovery`, phases timed by `streams.phase_timer` (`docs/streams.md`).
"""

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from corridor.contract.events import DecodeError
from corridor.store_contract import ClockAdvance, TwinBatch, TwinStore
from stations.spec import StationSpec
from streams import alignment, dead_letters, group_load, partition_ends, rebalance
from streams.batch_read import read_batch
from streams.broker_recovery import BrokerRecovery
from streams.broker_watch import BrokerWatch
from streams.carried_commits import CarriedCommits
from streams.clients import partitions_of
from streams.input_checks import InputFlags, yards_ahead
from streams.intake import Intake
from streams.live.reefer_alerts import ReeferAlerts
from streams.live.reorder import Micros, from_micros
from streams.live.snapshots import kpi_outputs, put_partials, put_yard_views
from streams.live.twin import LiveTwin, Origin
from streams.live.watermark import Partition
from streams.outputs_sink import Letter, OutputSink
from streams.phase_timer import PhaseTimer
from streams.ports import (
    AdminPort,
    ConsumerPort,
    InputMessage,
    ProducerPort,
    held_origin,
)
from streams.settings import KafkaSettings
from streams.snapshot_policy import SnapshotPolicy
from streams.start_offsets import start_offsets
from streams.step_trace import StepTrace
from streams.store_writer import commits_for
from streams.twin_restart import TwinSnapshots, load
from streams.worker_stats import WorkerStats

log = logging.getLogger(__name__)
_MICROSECOND = timedelta(microseconds=1)
REPORT_EVERY_S = 10.0  # wall time between progress log lines


def utc_now() -> datetime:
    """The wall clock, aware: `computed_at`, progress logs and the bound on event time."""
    return datetime.now(UTC)


class Worker:
    """The live twin's consume-apply-commit loop over its partitions (all, or a group's share)."""

    def __init__(
        self,
        settings: KafkaSettings,
        store: TwinStore,
        stations: Mapping[str, StationSpec],
        seed: int,
        *,
        consumer: ConsumerPort,
        producer: ProducerPort,
        admin: AdminPort,
        watch: BrokerWatch | None = None,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self.settings, self.store = settings, store
        self.commits = CarriedCommits(  # live: see carried_commits.py
            commits_for(store, settings.store_writer, settings.store_writer_from)
        )
        self.live = LiveTwin(stations, seed, alerts=ReeferAlerts.of(settings))
        self.timer = PhaseTimer()
        self.trace = StepTrace(settings.step_trace)  # off unless asked (benchmarks)
        self.admin, self.consumer, self.now = admin, consumer, now
        self.watch = watch if watch is not None else BrokerWatch(admin, settings)
        self.recovery = BrokerRecovery.of(settings, self.watch, consumer, producer, admin)
        self.stats = WorkerStats(seconds=self.timer.seconds, broker_losses=self.recovery.losses)
        self.sink = OutputSink(producer, settings)
        self.policy = SnapshotPolicy.of(settings)
        self.twin_snapshots = TwinSnapshots(settings)  # the live twin's state, for restarts
        self.flags = InputFlags()
        self.intake = Intake(self)  # the accept path, message by message: its module
        self.lateness: Micros = settings.lateness // _MICROSECOND
        self.cadence: Micros = settings.kpi_every // _MICROSECOND
        self.skew: Micros = settings.max_future_skew // _MICROSECOND
        self.positions: dict[Partition, int] = {}
        self.tracker = partition_ends.tracker_for(self, settings)
        self.alignment = alignment.of(self, settings)  # partitions far ahead wait: its module
        self.received: Micros | None = None  # the newest event time accepted since start
        self.group: rebalance.Rebalance | None = None  # a member's (`streams.rebalance`)
        self.load = group_load.load_partitions(store, stations, seed, settings)  # a member's
        self._last_input, self._last_commit, self._started = time.monotonic(), float("-inf"), False
        self._views_due = False  # the yard views go on this step's batch (`_move_watermark`)

    def start(self) -> None:
        """Load the twin (its newest stored snapshot and the archive after it, or the whole
        archive: `streams.twin_restart`), then assign the input partitions at stored offsets.

        A group member joins the group instead and loads what it is given (`take_over`)."""
        self._started = True
        everything = partitions_of(self.admin, self.settings.input_topics)
        if self.settings.membership == "group":
            self.group = rebalance.join(self, everything)  # fenced, its snapshots scoped
            return
        loaded = load(self.store, self.live.stations, self.live.seed, alerts=self.live.alerts)
        self.live, self.stats.rebuilt = loaded.live, loaded.entries
        self.twin_snapshots.start(self.live)
        self._assign(everything, self.store.load_offsets(self.settings.group_id))

    def take_over(self, partitions: list[Partition]) -> group_load.Loaded:
        """A group member's new partitions: their twin loaded, read from the stored offsets."""
        loaded = self.load(frozenset(partitions))
        self.live, self.stats.rebuilt = loaded.live, self.stats.rebuilt + loaded.entries
        self.policy.last_at = None  # a new twin: its snapshots are due again, as of any time
        self._assign(partitions, self.store.load_offsets(self.settings.group_id))
        return loaded

    def hand_over(self) -> None:
        """A group member's partitions go: last commit and twin snapshot stored, twin dropped."""
        self.commits.wait()
        self.twin_snapshots.final(self.live, self.store, self.settings.group_id)
        self.live, self.positions = LiveTwin(self.live.stations, self.live.seed), {}
        self.tracker.reset([])

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
            if time.monotonic() - last_report >= REPORT_EVERY_S:
                self._report()
                last_report = time.monotonic()
            if idle_exit_s is not None and self.idle_for() >= idle_exit_s:
                break
        self.commits.wait()
        self._report()
        return self.stats

    def idle_for(self) -> float:
        """Seconds since the last input, once everything is caught up and released (else 0)."""
        if rebalance.waiting(self.group) or not self.tracker.all_at_end():
            return 0.0
        if len(self.live.buffer) or self.commits.pending:
            return 0.0
        return time.monotonic() - self._last_input

    def step(self) -> int:
        """Consume, apply and commit one batch; returns the number of messages consumed.

        After the broker reported trouble no message is trusted until its topics are verified
        (`streams.broker_recovery`): a restarted broker may serve a recreated topic at the old
        offsets.
        """
        if self.watch.suspect:
            again = self.recovery.recover(self.positions, rebalance.share(self.group))
            if again is not None:
                self._assign(again.partitions, again.offsets)
            return 0
        self.timer.start()
        messages = read_batch(  # what is queued at once, else wait (`streams.batch_read`)
            self.consumer, self.settings.batch_size, timeout=self.settings.poll_timeout_s
        )
        if self.watch.suspect:  # reported during this fetch: read the batch again once verified
            self._assign(sorted(self.positions), self.positions)
            return 0
        self.timer.lap("consume")
        self.trace.mark("consumed")
        if self.group is not None:  # a rebalance in that call may have left some behind
            messages = rebalance.fresh(messages, self.positions)
        batch = TwinBatch(self.settings.group_id, offsets={})
        letters: list[Letter] = []
        consumed = self._take(messages, batch, letters)
        self.alignment.align()  # partitions far ahead of the slowest wait (`streams.alignment`)
        self.timer.lap("decode")
        catching_up = len(messages) >= self.settings.batch_size or bool(self.alignment.paused)
        self._move_watermark(batch, letters, catching_up=catching_up)
        self.timer.lap("engine")  # less the snapshots, counted apart
        if self.trace.on:
            self.trace.mark("n", len(messages))
            self.trace.mark("received", self.received)
            self.trace.mark("watermark", self.live.watermark)
        self._finish(batch, letters, catching_up=catching_up)
        self.trace.end()
        return consumed

    def close(self) -> None:
        """Store the last commit and the twin's snapshot, flush outputs and leave the broker."""
        self.commits.close()
        if self._started:  # a clean shutdown restarts from the twin's snapshot
            self.twin_snapshots.final(self.live, self.store, self.settings.group_id)
        self.sink.flush()
        self.consumer.close()
        self.trace.close()

    def _take(
        self, messages: Sequence[InputMessage], batch: TwinBatch, letters: list[Letter]
    ) -> int:
        consumed = self.intake.take(messages, batch, letters)  # the accept path: its module
        if consumed:
            self.positions.update(batch.offsets)
            self._last_input = time.monotonic()
            self.stats.consumed += consumed
            self.stats.archived += len(batch.archived)  # events only: no clock advance yet
        return consumed

    def dead(
        self, letters: list[Letter], reason: str, detail: str, origin: Origin, raw: bytes
    ) -> None:
        topic, partition, offset, key, headers = origin
        letter = dead_letters.dead_letter(reason, detail, topic, partition, offset, raw)
        letters.append(Letter(letter, key, headers))
        self.stats.dead_letters[reason] += 1

    def internal(
        self, error: Exception, letters: list[Letter], where: Partition, offset: int, raw: bytes
    ) -> None:
        """Dead-letter a message whose handling raised (without its key and headers, which
        may be what raised), and log it once."""
        reason = dead_letters.internal_reason(error)
        log.error("%s[%d]@%d dead-lettered %s: %.200s", *where, offset, reason, error)
        log.debug("the failure in full", exc_info=error)
        detail = dead_letters.internal_detail(error)
        self.dead(letters, reason, detail, Origin(*where, offset), raw)

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
        every = self.group is not None  # a member: on a grid the members share (its module)
        for boundary in self.policy.boundaries(live, target, self.cadence, every, catching_up):
            if every or self.policy.due(boundary, catching_up=catching_up):
                self._advance(boundary, batch, letters)
                self._snapshot(boundary, batch)
        if live.watermark is None or target > live.watermark:
            self._advance(target, batch, letters)
        if quiet and self.policy.after_last(target):
            self._snapshot(target, batch)
        if live.twin is not None:
            batch.records = live.twin.drain()
        streaming = not (catching_up or quiet)  # views once a second, not with every snapshot
        if self.policy.views_due(streaming=streaming, snapshot=bool(batch.snapshots)):
            self._views_due = True  # put on the batch once its KPIs are out (`_finish`)

    def _quiet(self) -> bool:
        idle = time.monotonic() - self._last_input >= self.settings.quiet_after_s
        return idle and self.tracker.all_at_end()

    def _advance(self, moment: Micros, batch: TwinBatch, letters: list[Letter]) -> None:
        for held, error in self.live.advance(moment):
            origin = held_origin(held.origin)
            reason, detail = dead_letters.refusal_reason(error)
            if not isinstance(error, DecodeError):
                log.error("event %r dead-lettered %s: %.200s", held.event.event_id, reason, error)
            self.dead(letters, reason, detail, origin, held.raw)
        batch.archived.append(ClockAdvance(from_micros(moment)))
        self.stats.advances += 1

    def _snapshot(self, moment: Micros, batch: TwinBatch) -> None:
        began = time.monotonic()
        self.trace.mark("snapshot")
        snapshots, partials = kpi_outputs(self.live, moment, self.now())
        cost = time.monotonic() - began
        self.trace.mark("snapshot_end")
        self.trace.mark("as_of", moment)
        self.timer.move(cost, source="engine", target="snapshots")
        if not snapshots:
            return
        batch.snapshots.extend(snapshots)
        put_partials(self.live, batch, partials)  # the views follow (`SnapshotPolicy.views_due`)
        self.policy.taken(moment, cost)
        self.stats.snapshots += len(snapshots)

    def _finish(self, batch: TwinBatch, letters: list[Letter], *, catching_up: bool) -> None:
        rebalance.finish(self.group, batch, self.live)  # a member's: its yards', fenced
        batch.dead_letters = [item.letter for item in letters]
        forced = self.recovery.take_forced_offsets()
        if forced:
            batch.offsets = {**forced, **batch.offsets}
        empty = not (batch.offsets or batch.archived or batch.dead_letters or batch.snapshots)
        beat = time.monotonic() - self._last_commit >= self.settings.heartbeat_s
        if empty and not (beat or self.commits.holding):
            return  # an empty commit is a heartbeat: /ready tells an idle worker from a dead one
        self.sink.send(letters, batch.snapshots, self.live.take_alerts())
        self.sink.flush(between=self.recovery.recover_outputs)
        self.trace.mark("delivered")
        if self._views_due:  # after the flush: not in the way of the batch's KPI moment
            self.trace.mark("views")
            put_yard_views(self.live, batch)
            self.policy.views_sent()
            self._views_due = False
            self.trace.mark("views_end")
        batch.lag = self.recovery.lag(self.consumer, self.positions)
        batch.flags = self.flags.take_uncommitted()
        batch.yards_ahead = yards_ahead(self.live, self.received, self.settings.lateness)
        carry = not catching_up and self.group is None  # live: never wait for a commit
        busy = carry and self.commits.pending  # no twin snapshot then (carried_commits.py)
        if not busy and self.twin_snapshots.attach(self.live, batch, catching_up=catching_up):
            self.trace.mark("twin_snapshot", self.twin_snapshots.cost)
        self.timer.lap("deliver")
        self.trace.mark("pending", int(self.commits.pending))  # the previous one still running
        # in the background: a full batch (streams/commits.py), and live any but a heartbeat
        # (the next one waits for it only if it carries a twin snapshot: carried_commits.py)
        background = catching_up or (carry and not empty) or bool(batch.snapshots)
        self.commits.commit(batch, background=background, carry=carry)
        self._last_commit = time.monotonic()
        self.timer.lap("commit")
        self.trace.mark("committed")
        self.stats.batches += 1

    def _assign(self, partitions: list[Partition], stored: Mapping[Partition, int]) -> None:
        self.positions = {where: stored.get(where, 0) for where in partitions}
        self.tracker.reset(partitions)
        self.alignment.assigned(partitions)
        self.consumer.assign(start_offsets(self.consumer, partitions, stored))  # its module
        log.info("assigned %s", {f"{t}[{p}]": self.positions[(t, p)] for t, p in partitions})

    def _report(self) -> None:
        watermark = self.live.watermark
        log.info(
            "consumed %d, archived %d, dead letters %s, buffer %d, watermark %s, late %d; "
            "seconds in %s",
            self.stats.consumed,
            self.stats.archived,
            dict(self.stats.dead_letters),
            len(self.live.buffer),
            from_micros(watermark).isoformat() if watermark is not None else "-",
            self.live.twin.counts.late if self.live.twin is not None else 0,
            self.timer.summary(),
        )
        self.flags.report()

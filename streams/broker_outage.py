"""A broker that stops answering: what the worker does while it waits, and when it gives up.

A yard's worker outlives short broker outages (a restart, an upgrade, a network blip): it keeps
trying, and `streams.broker_recovery` resumes where it was once the broker answers. While it
waits, two things keep it bounded and visible:

- librdkafka queues its log lines and error events for the application to serve (the clients'
  `logger` and `error_cb` run in `consume` and `poll`). A worker that only pauses between
  checks of the broker serves none of them, and they pile up for as long as the outage lasts
  (about 25 KB/s on the embedded broker, docs/streams.md). So each pause is spent serving the
  consumer's, the producer's and the admin client's queues instead; whatever the consumer
  fetches meanwhile is dropped, since recovery assigns the partitions again at the worker's
  own positions before any message is trusted.
- The outage is logged when it starts ("broker unreachable since ..."), again every
  `REPORT_EVERY_S`, and when it ends.

A broker gone for good is a deployment fault that a supervisor can see only when the worker
exits: after `broker_lost_exit_s` seconds without an answer (`KafkaSettings`, 0: wait for ever)
`waiting` raises `BrokerLostError`, and `corridor worker` stores its last state, closes and exits
with `EXIT_BROKER_LOST`, so that docker-compose's `restart:` starts it again.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from streams.ports import AdminPort, ConsumerPort, ProducerPort

log = logging.getLogger(__name__)

EXIT_BROKER_LOST = 75  # sysexits.h EX_TEMPFAIL: a temporary failure, worth starting again
REPORT_EVERY_S = 60.0  # wall time between "still unreachable" log lines
_DRAIN_BATCH = 500  # messages a pause may fetch (and drop) per call


class BrokerLostError(RuntimeError):
    """The broker did not answer for longer than the worker is configured to wait."""

    def __init__(self, since: datetime, waited_s: float) -> None:
        super().__init__(
            f"the Kafka broker has been unreachable since {since.isoformat(timespec='seconds')} "
            f"({waited_s:.0f} s, more than broker_lost_exit_s)"
        )
        self.since = since
        self.waited_s = waited_s


@dataclass(slots=True)
class BrokerOutage:
    """When the broker stopped answering (None while it answers), and the clients to serve."""

    exit_after_s: float  # 0: never give up
    consumer: ConsumerPort
    producer: ProducerPort
    admin: AdminPort
    wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    since: datetime | None = None
    _began: float = 0.0
    _reported: float = 0.0

    def waiting(self, pause_s: float, *, answering: bool) -> None:
        """A pause until the broker's next check, spent serving the clients' queues.

        When the broker did not answer its last check (`answering` false) the outage is noted
        or reported, and past the deadline `BrokerLostError` is raised.
        """
        if answering:  # a suspicion not yet checked, not an outage
            self.serve(pause_s)
            return
        now = time.monotonic()
        if self.since is None:
            self.since, self._began, self._reported = self.wall_clock(), now, now
            log.warning("broker unreachable since %s", self._since_text())
        waited = now - self._began
        if self.exit_after_s and waited > self.exit_after_s:
            raise BrokerLostError(self.since, waited)
        if now - self._reported >= REPORT_EVERY_S:
            self._reported = now
            log.warning(
                "broker unreachable since %s (%.0f s)%s",
                self._since_text(),
                waited,
                f"; exiting after {self.exit_after_s:g} s" if self.exit_after_s else "",
            )
        self.serve(pause_s)

    def ended(self) -> None:
        """The broker answers again: the outage is over (logged if there was one)."""
        if self.since is not None:
            log.warning(
                "broker reachable again after %.1f s (unreachable since %s)",
                time.monotonic() - self._began,
                self._since_text(),
            )
        self.since = None

    def serve(self, pause_s: float) -> None:
        """Serve the clients' logs and error events for about `pause_s`; fetched messages are
        dropped (they are read again from the worker's positions after recovery)."""
        self.producer.poll(0)
        self.admin.poll(0)
        self.consumer.consume(_DRAIN_BATCH, timeout=pause_s)

    def _since_text(self) -> str:
        return self.since.isoformat(timespec="seconds") if self.since is not None else "-"

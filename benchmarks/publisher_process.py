"""A publisher in a child process: `bench_year.py --feed broker` without the publisher's memory.

Publishing a month (150,000 events) in the worker's own process queues them in a librdkafka
producer there, whose freed buffers the C allocator keeps: a first broker run held about 90 MB
more than `malloc_trim` could give back. A worker never publishes its input, so the events go
to a child process in batches and it produces them (`streams.publish.publish`); the process
measured holds the worker and its consumer only.
"""

import itertools
import multiprocessing
from collections.abc import Iterable
from multiprocessing.connection import Connection

from corridor.contract.events import Event
from streams.publish import publish
from streams.settings import KafkaSettings

BATCH = 20_000  # events sent to the child at once


class PublisherProcess:
    """A child process that publishes the events it is sent; `publish` waits for delivery."""

    def __init__(self, settings: KafkaSettings) -> None:
        context = multiprocessing.get_context("spawn")
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, settings), daemon=True)
        self.process.start()
        child.close()

    def publish(self, events: Iterable[Event]) -> int:
        """Publish `events` from the child; returns how many were delivered."""
        iterator = iter(events)
        while batch := list(itertools.islice(iterator, BATCH)):
            self.connection.send(batch)
        self.connection.send(None)  # the end of this lot: the child reports its count
        produced: int = self.connection.recv()
        return produced

    def close(self) -> None:
        """Stop the child and wait for it."""
        self.connection.send("stop")
        self.process.join(timeout=30)
        self.connection.close()


def _serve(connection: Connection, settings: KafkaSettings) -> None:
    produced = 0
    while True:
        batch = connection.recv()
        if batch == "stop":
            return
        if batch is None:
            connection.send(produced)
            produced = 0
            continue
        produced += publish(batch, settings).produced

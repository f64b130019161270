"""Light processes for the yard's many short-lived actors (trucks, reefers, inspections).

A `simpy.Process` costs two scheduled events besides the ones its generator waits on: an
urgent `Initialize` to start it and its own triggering when it ends, which nobody waits on
for a truck. A year of three yards starts close to a million such actors, so `start` drives
the generator directly: it runs at once to its first wait (where `Initialize` would have
run it, before anything else due at this instant) and is resumed by each event it waits on,
in the same order SimPy would resume it. Use `env.process` when something waits for the end.
"""

import simpy

from stations.types import ProcessGenerator


class _Actor:
    # no reference back to itself (a bound method kept as an attribute would be one): a
    # finished actor is freed at once by reference counting, never left to the cyclic GC
    __slots__ = ("_generator",)

    def __init__(self, generator: ProcessGenerator) -> None:
        self._generator = generator

    def _resume(self, event: simpy.Event) -> None:
        self._advance(event)

    def _advance(self, event: simpy.Event | None) -> None:
        generator = self._generator
        while True:
            try:
                if event is None:
                    waited = next(generator)
                elif event._ok:
                    waited = generator.send(event._value)
                else:
                    event._defused = True
                    waited = generator.throw(event._value)
            except StopIteration:
                return
            if waited.callbacks is not None:
                waited.callbacks.append(self._resume)
                return
            event = waited  # already processed: go on at once, as SimPy does


def start(generator: ProcessGenerator) -> None:
    """Run an actor's generator now until it first waits; it goes on as its events occur."""
    _Actor(generator)._advance(None)

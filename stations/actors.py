"""Light processes for the yard's many short-lived actors (trucks, reefers, inspections).

A `simpy.Process` costs two scheduled events besides the ones its generator waits on: an
urgent `Initialize` to start it and its own triggering when it ends, which nobody waits on
for a truck. A year of three yards starts close to a million such actors, so `start` drives
the generator directly: it runs at once to its first wait (where `Initialize` would have
run it, before anything else due at this instant) and is resumed by each event it waits on,
in the same order SimPy would resume it. Use `env.process` when something waits for the end.

Each actor carries its progress record (`progress`: the stage it has reached and the times it
has recorded so far), the plain data a yard snapshot reads (`stations.snapshot`); an actor
restored from a snapshot is the same generator started at that stage (`resume`).
"""

import simpy

from stations.types import ProcessGenerator


class _Actor:
    # no reference back to itself (a bound method kept as an attribute would be one): a
    # finished actor is freed at once by reference counting, never left to the cyclic GC
    __slots__ = ("_generator", "progress")

    def __init__(self, generator: ProcessGenerator, progress: object) -> None:
        self._generator = generator
        self.progress = progress

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


def start(generator: ProcessGenerator, progress: object = None) -> None:
    """Run an actor's generator now until it first waits; it goes on as its events occur.

    `progress` is the record the generator keeps up to date (found from the event it waits
    on when the yard is snapshotted)."""
    _Actor(generator, progress)._advance(None)


def progress_of(callback: object) -> object | None:
    """The progress record of the actor or tracked process a callback resumes, else None."""
    owner = getattr(callback, "__self__", None)
    if isinstance(owner, _Actor | TrackedProcess):
        return owner.progress
    return None


class TrackedProcess(simpy.Process):
    """A `simpy.Process` (something waits for its end) that carries its progress record."""

    progress: object = None


def process(
    env: simpy.Environment, generator: ProcessGenerator, progress: object
) -> TrackedProcess:
    """Start a process, as `env.process` does, that a snapshot can find by its progress."""
    started = TrackedProcess(env, generator)
    started.progress = progress
    return started


def resumed_process(
    env: simpy.Environment, generator: ProcessGenerator, progress: object
) -> TrackedProcess:
    """A process restored from a snapshot: its generator is run at once to the event it waits
    on (restored already), without the `Initialize` event a new process schedules, so the
    restored yard's event queue holds exactly what the snapshotted one held."""
    restored: TrackedProcess = object.__new__(TrackedProcess)
    restored.env = env
    restored.callbacks = []
    restored._generator = generator
    restored.progress = progress
    waited = next(generator)
    waited.callbacks.append(restored._resume)
    restored._target = waited
    return restored


def waited(resume: simpy.Event | None) -> simpy.Event:
    """The event a restored actor was waiting on when its yard was snapshotted."""
    if resume is None:
        raise RuntimeError("an actor resumed mid-stage without the event it waited on")
    return resume

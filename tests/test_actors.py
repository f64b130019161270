"""Light actors behave as SimPy processes do for the yard: same start, same order, same values."""

import pytest
import simpy

from stations import actors
from stations.clock import YardEnvironment
from stations.stack import Stack
from stations.types import ProcessGenerator


def test_an_actor_runs_at_once_to_its_first_wait_then_on_each_event() -> None:
    env = YardEnvironment()
    seen: list[tuple[str, float]] = []

    def actor() -> ProcessGenerator:
        seen.append(("start", env.now))
        value = yield env.timeout(2.0, value="two")
        seen.append((value, env.now))
        yield env.timeout(3.0)
        seen.append(("end", env.now))

    actors.start(actor())
    assert seen == [("start", 0.0)]  # before any event is processed
    env.run_before(10.0)
    assert seen == [("start", 0.0), ("two", 2.0), ("end", 5.0)]
    assert not env._queue  # nothing scheduled for the actor's start or end


def test_actors_and_processes_interleave_in_the_same_order() -> None:
    """Where SimPy would start a process (urgently, at once), an actor starts: same order."""

    def run(start: object) -> list[str]:
        env = YardEnvironment()
        order: list[str] = []

        def actor(name: str, delay: float) -> ProcessGenerator:
            order.append(f"{name} starts")
            yield env.timeout(delay)
            order.append(f"{name} at {env.now}")

        for name, delay in [("a", 1.0), ("b", 0.0), ("c", 1.0)]:
            if start == "actor":
                actors.start(actor(name, delay))
            else:
                env.process(actor(name, delay))  # started by an urgent `Initialize` at 0.0
        env.run_before(5.0)
        return order

    expected = ["a starts", "b starts", "c starts", "b at 0.0", "a at 1.0", "c at 1.0"]
    assert run("actor") == run("process") == expected


def test_an_event_already_processed_lets_the_actor_go_on_at_once() -> None:
    env = YardEnvironment()
    done = env.event()
    done.succeed("ready")
    env.run_before(1.0)  # `done` is processed: waiting on it must not hang
    got: list[object] = []

    def actor() -> ProcessGenerator:
        got.append((yield done))

    actors.start(actor())
    assert got == ["ready"]


def test_a_failed_event_is_raised_inside_the_actor() -> None:
    env = YardEnvironment()
    failing = env.event()
    caught: list[str] = []

    def actor() -> ProcessGenerator:
        try:
            yield failing
        except RuntimeError as error:
            caught.append(str(error))

    actors.start(actor())
    failing.fail(RuntimeError("crane down"))
    env.run_before(1.0)
    assert caught == ["crane down"]


def test_the_stack_reserves_at_once_when_it_fits_and_serves_waiters_in_order() -> None:
    env = YardEnvironment()
    stack = Stack(env, capacity=3)
    assert stack.reserve(2) is None
    big, small = stack.reserve(2), stack.reserve(1)
    assert big is not None
    assert small is not None
    assert stack.level == 2  # the 1-TEU box fits but waits behind the 2-TEU one, as in SimPy
    stack.free(2)
    assert big.triggered
    assert small.triggered
    assert stack.level == 3
    with pytest.raises(ValueError, match="capacity"):
        Stack(env, capacity=0)


def test_the_stack_waits_like_a_simpy_container() -> None:
    """The same puts and gets through `Stack` and `simpy.Container` leave the same levels."""
    sizes = [2, 1, 2, 2, 1, 1, 2]
    env = YardEnvironment()
    container = simpy.Container(env, capacity=4)
    stack = Stack(env, capacity=4)
    puts = [container.put(size) for size in sizes]
    rooms = [stack.reserve(size) for size in sizes]
    env.run_before(1.0)
    for size in [2, 1, 2]:
        container.get(size)
        stack.free(size)
        env.run_before(env.now + 1.0)
        assert stack.level == container.level
        assert [room is None or room.triggered for room in rooms] == [p.triggered for p in puts]


def test_yard_timeouts_keep_simpys_order_and_refuse_negative_delays() -> None:
    """Made without the constructor, a yard's timeouts still fire in SimPy's (time, id) order."""
    yard_env, simpy_env = YardEnvironment(), simpy.Environment()
    fired: dict[str, list[str]] = {"yard": [], "simpy": []}
    for name, env in [("yard", yard_env), ("simpy", simpy_env)]:
        for label, delay in [("a", 2.0), ("b", 1.0), ("c", 2.0), ("d", 0.0)]:
            timeout = env.timeout(delay, value=label)
            timeout.callbacks.append(lambda event, name=name: fired[name].append(event.value))
    yard_env.run_before(5.0)
    simpy_env.run(until=5.0)
    assert fired["yard"] == fired["simpy"] == ["d", "b", "a", "c"]
    with pytest.raises(ValueError, match="Negative delay"):
        yard_env.timeout(-0.5)

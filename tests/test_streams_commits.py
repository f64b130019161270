"""Store commits overlapped with the next batch still land in order, and a failure stops them."""

import threading

import pytest

from corridor.store_contract import TwinBatch
from streams.commits import OrderedCommits
from streams.live.memory_store import MemoryStore


class SlowStore(MemoryStore):
    """A store whose commits wait for a gate, and whose commit of group "bad" fails."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.threads: list[str] = []

    def commit(self, batch: TwinBatch) -> None:
        self.threads.append(threading.current_thread().name)
        self.gate.wait(5)
        if batch.group == "bad":
            raise RuntimeError("disk full")
        super().commit(batch)


def batch(offset: int, group: str = "g") -> TwinBatch:
    return TwinBatch(group, {("t", 0): offset})


def test_a_background_commit_runs_beside_the_caller_and_lands_before_the_next() -> None:
    store = SlowStore()
    commits = OrderedCommits(store)
    commits.commit(batch(1), background=True)
    assert commits.pending
    assert store.commits == 0
    store.gate.set()
    commits.commit(batch(2), background=False)  # waits for the first, then commits here
    assert store.commits == 2
    assert store.load_offsets("g") == {("t", 0): 2}
    assert store.threads[0].startswith("store-commit")
    assert store.threads[1] == threading.current_thread().name
    commits.close()


def test_a_failed_background_commit_raises_at_the_next_and_nothing_later_is_stored() -> None:
    store = SlowStore()
    store.gate.set()
    commits = OrderedCommits(store)
    commits.commit(batch(1), background=True)
    commits.commit(batch(2, "bad"), background=True)
    with pytest.raises(RuntimeError, match="disk full"):
        commits.commit(batch(3), background=True)
    assert store.load_offsets("g") == {("t", 0): 1}
    assert not commits.pending
    commits.close()


def test_close_waits_for_the_last_commit() -> None:
    store = SlowStore()
    commits = OrderedCommits(store)
    commits.commit(batch(7), background=True)
    threading.Timer(0.05, store.gate.set).start()
    commits.close()
    assert store.load_offsets("g") == {("t", 0): 7}

"""The API's job processes (`api.job_processes`): they watch for the API's end from a thread,
and a what-if's replications still fork from them (`corridor.forecast.forking` refuses to fork
beside any other thread). The end itself is tested on real API processes killed with -9
(`tests/test_api_leases.py`, `tests/test_api_whatif_jobs.py`)."""

import threading

from api.job_processes import job_pool
from corridor.forecast.forking import fork_safe, forked


def square(replication: int) -> int:
    return replication * replication


def squares_forked() -> list[int]:
    """In the job process: three replications, two forked at a time."""
    return forked(square, 3, workers=2)


def test_a_job_process_forks_replications_beside_its_watch() -> None:
    with job_pool(1) as pool:
        assert pool.submit(squares_forked).result(timeout=120) == [0, 1, 4]


def refused_then_forked_beside_a_thread() -> tuple[str, list[int]]:
    """In the job process: beside a waiting thread, forking is refused until it is declared
    safe (here, not in the test's process, whose threads depend on earlier tests)."""
    release = threading.Event()
    waiting = threading.Thread(target=release.wait, daemon=True)
    waiting.start()
    try:
        try:
            forked(square, 1, workers=1)
            refusal = ""
        except RuntimeError as error:
            refusal = str(error)
        fork_safe(waiting)
        return refusal, forked(square, 2, workers=1)
    finally:
        release.set()
        waiting.join()


def test_forking_is_refused_beside_a_thread_not_declared_safe() -> None:
    with job_pool(1) as pool:
        refusal, results = pool.submit(refused_then_forked_beside_a_thread).result(timeout=120)
    assert "without other threads" in refusal
    assert results == [0, 1]

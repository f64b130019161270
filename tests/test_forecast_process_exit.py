"""A forecast process ends with the process that started it, its forked replications too.

`tests.forecast_parent` stands in for the forecasting worker: it starts a long forecast (the
whole horizon, 64 replications forked two at a time: 10 s on a quiet machine, 27 s on a busy
one). Once the replications run, the parent is killed (`kill -9`: the forecast could not be
stored any more) or stopped (SIGTERM: it closes the schedule, as the worker's close does); the
forecast process and every replication it forked must be gone within `GONE_WITHIN_S`, not
computing on to the forecast's end, and the job's files removed. A replication forked by
`corridor.forecast.forking` dies with the process that forked it, however long it would run.
"""

import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.test_forecast_schedule import until
from tests.worker_processes import ROOT, gone

GONE_WITHIN_S = 3.0  # measured: within 0.1 s (the orphan watch's and the kernel's reaction)


@pytest.mark.parametrize("how", ["kill -9", "stop"])
def test_the_forecast_process_and_its_replications_end_with_their_parent(how: str) -> None:
    command = [sys.executable, "-m", "tests.forecast_parent"]
    tree: list[psutil.Process] = []
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE) as parent:
        try:
            assert parent.stdout is not None
            forecast = psutil.Process(int(parent.stdout.readline()))
            files = Path(parent.stdout.readline().decode().strip())
            assert until(lambda: len(forecast.children()) == 2, 300), "replications forked"
            tree = [forecast, *forecast.children(recursive=True)]
            if how == "kill -9":
                parent.kill()
            else:
                parent.send_signal(signal.SIGTERM)
            began = time.monotonic()
            left = [process.pid for process in tree if not gone(process, GONE_WITHIN_S)]
            print(f"{how}: the forecast's {len(tree)} processes gone after "
                  f"{time.monotonic() - began:.2f} s")  # fmt: skip
        finally:
            parent.kill()
            for process in tree:
                if process.is_running():
                    process.kill()
    assert left == [], f"still computing {GONE_WITHIN_S:g} s after its parent went: {left}"
    assert until(lambda: not files.exists(), GONE_WITHIN_S), f"{files} left behind"


FORKS_FOR_EVER = """
import time
from corridor.forecast.forking import forked
forked(lambda replication: time.sleep(3600), 2, 2)
"""


def test_a_forked_replication_is_killed_with_the_process_that_forked_it() -> None:
    with subprocess.Popen([sys.executable, "-c", FORKS_FOR_EVER], cwd=ROOT) as parent:
        try:
            forking = psutil.Process(parent.pid)
            assert until(lambda: len(forking.children()) == 2, 60)
            replications = forking.children()
        finally:
            parent.kill()
        began = time.monotonic()
        left = [child.pid for child in replications if not gone(child, GONE_WITHIN_S)]
        print(f"replications gone after {time.monotonic() - began:.2f} s")
        for child in replications:
            if child.is_running():
                child.kill()
    assert left == []

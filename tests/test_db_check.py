"""`corridor db check`, the worker's and the migrations' health check in docker-compose.yml:
exit 0 when the store answers and, with `--worker-within S`, a real worker committed (its
heartbeat) in the last S seconds; exit 1 with the reason otherwise."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from corridor.cli import main
from streams.broker import free_port

ROOT = Path(__file__).resolve().parents[1]
CORRIDOR = "import sys; from corridor.cli import main; sys.exit(main(sys.argv[1:]))"


@pytest.mark.broker
@pytest.mark.slow
def test_healthy_only_while_a_worker_commits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = f"sqlite:///{tmp_path / 'twin.db'}"
    assert main(["db", "upgrade", "--database-url", store]) == 0
    assert main(["db", "check", "--database-url", store]) == 0
    assert main(["db", "check", "--database-url", store, "--worker-within", "60"]) == 1
    assert "no worker committed in the last 60 s (0 group(s) known)" in capsys.readouterr().err

    worker = subprocess.run(  # a real worker on the embedded broker; it commits when it starts
        [
            sys.executable,
            "-c",
            CORRIDOR,
            "worker",
            "--embedded-broker",
            "--store",
            store,
            "--exit-when-idle",
            "1",
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert worker.returncode == 0, worker.stderr
    finished = time.monotonic()

    assert main(["db", "check", "--database-url", store, "--worker-within", "60"]) == 0
    time.sleep(max(0.0, finished + 1.5 - time.monotonic()))
    assert main(["db", "check", "--database-url", store, "--worker-within", "1"]) == 1
    assert "(1 group(s) known)" in capsys.readouterr().err


def test_a_database_that_does_not_answer_is_unhealthy(capsys: pytest.CaptureFixture[str]) -> None:
    nowhere = f"postgresql+psycopg://twin:secret@127.0.0.1:{free_port()}/corridor"
    assert main(["db", "check", "--database-url", nowhere]) == 1
    err = capsys.readouterr().err
    assert err.startswith("corridor db check: the database postgresql+psycopg://twin:***@")
    assert "secret" not in err
    assert len(err.splitlines()) == 1

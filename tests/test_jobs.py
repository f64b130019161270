"""`corridor.jobs`: one replay job for the command line and the API's replay jobs alike.

`corridor replay` and the API's job function (`api.replay_job.run_replay`, which the process
pool runs) give the same report, byte for byte, for the same log, scenario and seed; a log that
cannot be replayed is refused with one clear reason by both.
"""

import json
import re
from pathlib import Path

import pytest

from api.replay_job import run_replay
from corridor import jobs
from corridor.cli import main
from corridor.contract.eventlog import write_log
from corridor.kpis.report import dumps_report
from corridor.scenario import DEFAULT_START, load_scenario
from corridor.traffic.generator import generate
from stations.spec import load_all_stations

SEED = 9


@pytest.fixture(scope="module")
def log_with_bad_lines(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4,000 events of generated traffic (two days hold more since the calibrated volumes of
    issue 11; one no longer does) with two lines that are not events."""
    path = tmp_path_factory.mktemp("log") / "traffic.jsonl"
    write_log(generate(load_all_stations(), days=2, seed=3, start=DEFAULT_START), path)
    lines = path.read_text().splitlines()[:4000]
    lines[5:5] = ["{not json", '{"type": "truck.gate_in"}']
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_cli_and_the_api_job_give_the_same_report(
    log_with_bad_lines: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    argv = ["replay", str(log_with_bad_lines), "--seed", str(SEED), "--quiet", "--out", str(out)]
    assert main(argv) == 0
    from_cli = (out / "kpis.json").read_bytes()
    from_api = run_replay(str(log_with_bad_lines), SEED, {"name": "baseline"})  # the CLI's
    assert dumps_report(from_api["report"]) == from_cli
    assert from_api["rejected_lines"] == 2
    assert [line.split(":")[0] for line in from_api["rejections"]] == ["line 6", "line 7"]
    report = json.loads(from_cli)
    assert report["run"]["events"]["rejected"]["malformed line"] == 2
    assert report["run"]["seed"] == SEED
    assert report["corridor"]["trucks"] > 0


def test_the_job_is_deterministic_and_chooses_the_scenario_seed(
    log_with_bad_lines: Path, tmp_path: Path
) -> None:
    scenario_file = tmp_path / "seeded.toml"
    scenario_file.write_text(f'name = "baseline"\n[run]\nseed = {SEED}\n')  # the report names it
    scenario = load_scenario(scenario_file)
    first = jobs.replay_log(log_with_bad_lines, scenario)
    again = jobs.replay_log(log_with_bad_lines, load_scenario(None), seed=SEED)
    assert first.report["run"]["seed"] == SEED
    assert dumps_report(first.report) == dumps_report(again.report)
    assert first.events == again.events == 4000  # the bad lines are counted, not replayed
    assert jobs.replay_log(log_with_bad_lines, load_scenario(None)).report["run"]["seed"] == (
        jobs.DEFAULT_SEED
    )


@pytest.mark.parametrize(
    ("content", "name", "reason"),
    [
        (b"{not json\n[]\n", "bad.jsonl", "no valid event (2 rejected lines)"),
        (b"not gzip at all", "bad.jsonl.gz", "the log cannot be read"),
        (b"{}", "log.txt", "unknown log format"),
    ],
)
def test_a_log_that_cannot_be_replayed_is_refused_with_the_reason(
    tmp_path: Path, content: bytes, name: str, reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(jobs.JobError, match=re.escape(reason)):
        jobs.replay_log(path, load_scenario(None))
    with pytest.raises(ValueError, match=re.escape(reason)):
        run_replay(str(path), None, {})
    assert main(["replay", str(path), "--out", str(tmp_path / "out")]) == 2
    assert reason in capsys.readouterr().err

"""The command line: generate, simulate, replay, and what bad input gets."""

import json
from pathlib import Path

import pandas as pd
import pytest

from corridor.cli import main
from corridor.contract import eventlog


def test_simulate_writes_kpis_and_tables(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", "--days", "1", "--seed", "3", "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "kpis.json").read_text())
    assert set(report["yards"]) == {"tuanjiecun", "xiaonanya", "yuzui"}
    assert report["run"]["seed"] == 3
    assert report["corridor"]["trucks"] == sum(y["trucks"] for y in report["yards"].values())
    visits = pd.read_parquet(tmp_path / "truck_visits.parquet")
    assert len(visits) >= report["corridor"]["trucks"] > 0
    assert "turn p50" in capsys.readouterr().out


def test_generate_then_replay_equals_simulate(tmp_path: Path) -> None:
    log = tmp_path / "day.parquet"
    args = ["--days", "1", "--seed", "4", "--quiet"]
    assert main(["generate", *args, "--out", str(log)]) == 0
    assert main(["simulate", *args, "--out", str(tmp_path / "sim")]) == 0
    until = "2026-01-06T00:00:00+08:00"
    assert (
        main(
            [
                "replay",
                str(log),
                "--seed",
                "4",
                "--until",
                until,
                "--quiet",
                "--out",
                str(tmp_path / "rep"),
            ]
        )
        == 0
    )
    simulated = json.loads((tmp_path / "sim" / "kpis.json").read_text())
    replayed = json.loads((tmp_path / "rep" / "kpis.json").read_text())
    assert simulated["yards"] == replayed["yards"]


def test_scenario_override_changes_the_yard(tmp_path: Path) -> None:
    scenario = tmp_path / "one-lane.toml"
    scenario.write_text(
        "[stations.tuanjiecun.gate]\nlanes = 1\n"
        '[stations.tuanjiecun.gate.service_min]\ndist = "exponential"\nmean = 1.2\n'
    )
    base, slow = tmp_path / "base", tmp_path / "slow"
    assert main(["simulate", "--days", "1", "--quiet", "--out", str(base)]) == 0
    assert (
        main(
            ["simulate", "--days", "1", "--quiet", "--scenario", str(scenario), "--out", str(slow)]
        )
        == 0
    )
    wait = lambda out: json.loads((out / "kpis.json").read_text())["yards"]["tuanjiecun"][  # noqa: E731
        "gate_wait_min"
    ]["mean"]
    assert wait(slow) > 5 * wait(base)


def test_malformed_lines_are_reported_and_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "day.jsonl"
    assert main(["generate", "--days", "1", "--quiet", "--out", str(log)]) == 0
    lines = log.read_text().splitlines()
    lines.insert(3, "{not json")
    lines.insert(
        10,
        '{"type": "truck.gate_in", "event_id": "x", "ts": "2026-01-05T08:00:00", '
        '"yard": "yuzui", "truck_id": "K"}',
    )
    log.write_text("\n".join(lines) + "\n")
    assert main(["replay", str(log), "--quiet", "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert f"{log}:4: skipped: not JSON" in err
    assert f"{log}:11: skipped: ts:" in err
    report = json.loads((tmp_path / "out" / "kpis.json").read_text())
    assert report["run"]["events"]["rejected"]["malformed line"] == 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["replay", "missing.jsonl"], "missing.jsonl"),
        (["simulate", "--days", "0"], "--days must be from 1 to 366"),
        (["simulate", "--scenario", "nope.toml"], "cannot read scenario"),
    ],
)
def test_bad_input_gets_a_clear_message(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--out", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err


def test_unknown_yard_in_a_scenario_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "bad.toml"
    scenario.write_text("[stations.chengdu.gate]\nlanes = 2\n")
    assert main(["simulate", "--scenario", str(scenario), "--out", str(tmp_path)]) == 2
    assert "chengdu" in capsys.readouterr().err


def test_a_log_goes_into_a_missing_folder_which_is_created(tmp_path: Path) -> None:
    generated = tmp_path / "new" / "deeper" / "day.jsonl"
    kept = tmp_path / "kept" / "sim.parquet"

    assert main(["generate", "--days", "1", "--seed", "6", "--quiet", "--out", str(generated)]) == 0
    simulate = ["simulate", "--days", "1", "--seed", "7", "--quiet", "--log", str(kept)]
    assert main([*simulate, "--out", str(tmp_path / "out" / "sim")]) == 0

    assert eventlog.read_header(generated) == eventlog.LogHeader(seed=6)
    assert eventlog.read_header(kept) == eventlog.LogHeader(seed=7)
    assert (tmp_path / "out" / "sim" / "kpis.json").exists()

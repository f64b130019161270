"""kpis.json says what it was computed from: the scenario (name, digest of its effective
content), the seed, and the input (the log's bytes, or the generator's parameters)."""

import hashlib
import json
from pathlib import Path

from corridor.cli import main
from corridor.kpis.run_info import generated_input, scenario_info
from corridor.scenario import load_scenario, parse_scenario


def run_block(out: Path) -> dict[str, object]:
    block: dict[str, object] = json.loads((out / "kpis.json").read_text())["run"]
    return block


def test_a_replay_records_the_digest_of_the_log_bytes(tmp_path: Path) -> None:
    log = tmp_path / "day.jsonl"
    assert main(["generate", "--days", "1", "--seed", "2", "--quiet", "--out", str(log)]) == 0
    assert main(["replay", str(log), "--seed", "6", "--quiet", "--out", str(tmp_path / "a")]) == 0
    run = run_block(tmp_path / "a")
    digest = hashlib.sha256(log.read_bytes()).hexdigest()
    assert run["input"] == {"kind": "log", "digest": f"sha256:{digest}"}
    assert run["seed"] == 6
    assert run["scenario"] == scenario_info("baseline", load_scenario(None).stations)
    log.write_bytes(log.read_bytes() + b"\n")  # one more byte: another input
    assert main(["replay", str(log), "--seed", "6", "--quiet", "--out", str(tmp_path / "b")]) == 0
    assert run_block(tmp_path / "b")["input"] != run["input"]


def test_a_simulation_records_its_generator_parameters(tmp_path: Path) -> None:
    scenario = tmp_path / "lanes.toml"
    scenario.write_text('name = "two lanes"\n[stations.yuzui.gate]\nlanes = 2\n')
    args = ["simulate", "--days", "1", "--seed", "3", "--quiet", "--scenario", str(scenario)]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    run = run_block(tmp_path / "a")
    assert run["scenario"] == scenario_info("two lanes", load_scenario(scenario).stations)
    assert run["input"] == generated_input(
        {
            "mode": "realistic",
            "days": 1,
            "seed": 3,
            "start": "2026-01-05T00:00:00+08:00",
            "stations": scenario_info("two lanes", load_scenario(scenario).stations)["digest"],
        }
    )
    assert main([*args[:4], "4", *args[5:], "--out", str(tmp_path / "b")]) == 0  # seed 4
    assert run_block(tmp_path / "b")["input"] != run["input"]


def test_the_scenario_digest_is_of_the_effective_content() -> None:
    def digest(table: dict[str, object]) -> str:
        scenario = parse_scenario(table)
        return scenario_info(scenario.name, scenario.stations)["digest"]

    baseline = digest({})
    assert baseline.startswith("sha256:")
    assert len(baseline) == len("sha256:") + 64
    assert digest({"name": "renamed", "description": "words", "run": {"seed": 4}}) == baseline
    yuzui = load_scenario(None).stations["yuzui"]
    same_value = {"stations": {"yuzui": {"gate": {"lanes": yuzui.gate.lanes}}}}
    assert digest(same_value) == baseline  # restating a figure changes nothing
    assert digest({"stations": {"yuzui": {"gate": {"lanes": yuzui.gate.lanes + 1}}}}) != baseline
    exponential = {"dist": "exponential", "mean": 1.0}
    constant = {"dist": "constant", "value": 1.0}
    assert digest({"stations": {"yuzui": {"gate": {"exit_min": exponential}}}}) != digest(
        {"stations": {"yuzui": {"gate": {"exit_min": constant}}}}
    )

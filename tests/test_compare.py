"""`corridor compare`: differences with 95 % intervals that mean what they say.

The intervals are checked against scipy's own t tests; a scenario identical to the base shows
no significant difference (paired on common random numbers: none at all; independent seeds
with Welch's t: no more than the false positives 95 % allows); more gate lanes at an
overloaded gate show a significant cut in gate wait; run directories, `replications.parquet`
and the command line work end to end.
"""

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from scipy import stats

from corridor.cli import main
from corridor.compare.report import compare_runs
from corridor.compare.runs import Run, RunPlan, read_run_directory, run_scenario_file
from corridor.compare.stats import compare_values
from corridor.compare.table import COLUMNS, ranking

BASE = [10.0, 12.5, 9.0, 11.0, 13.0, 10.5]
OTHER = [9.0, 11.0, 9.5, 9.0, 11.5, 9.0]
OVERLOADED_GATE = """
name = "{name}"
[stations.yuzui.gate]
lanes = {lanes}
service_min = 5.0
"""


def test_paired_interval_is_scipys_paired_t() -> None:
    found = compare_values(BASE, OTHER, "paired")
    expected = stats.ttest_rel(OTHER, BASE).confidence_interval(0.95)
    assert found.low == pytest.approx(expected.low)
    assert found.high == pytest.approx(expected.high)
    assert found.difference == pytest.approx(sum(OTHER) / 6 - sum(BASE) / 6)
    assert found.significant is bool(expected.high < 0 or expected.low > 0)


def test_welch_interval_is_scipys_welch_t() -> None:
    found = compare_values(BASE, OTHER[:5], "welch")
    expected = stats.ttest_ind(OTHER[:5], BASE, equal_var=False).confidence_interval(0.95)
    assert found.low == pytest.approx(expected.low)
    assert found.high == pytest.approx(expected.high)
    assert (found.n_base, found.n_scenario) == (6, 5)


def test_missing_values_are_left_out_and_too_few_give_no_verdict() -> None:
    paired = compare_values([1.0, None, 3.0], [2.0, 5.0, None], "paired")
    assert paired.n_base == 1
    assert paired.low is None
    assert not paired.significant
    assert compare_values([None, None], [1.0, 2.0], "welch").difference is None


def scenario_run(tmp_path: Path, name: str, text: str, plan: RunPlan) -> Run:
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return run_scenario_file(path, plan)


@pytest.fixture(scope="module")
def base_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """The baseline over seeds 1-10 and again over seeds 11-20, one day each."""
    folder = tmp_path_factory.mktemp("runs")
    text = 'name = "baseline"\n'
    return {
        "first": scenario_run(folder, "first", text, RunPlan(replications=10, days=1, seed=1)),
        "again": scenario_run(folder, "again", text, RunPlan(replications=10, days=1, seed=1)),
        "other_seeds": scenario_run(
            folder, "other", text, RunPlan(replications=10, days=1, seed=11)
        ),
    }


@pytest.mark.slow
def test_a_scenario_identical_to_the_base_differs_in_nothing_on_common_random_numbers(
    base_runs: dict[str, Run],
) -> None:
    frame = compare_runs(base_runs["first"], [base_runs["again"]]).frame
    assert set(frame["method"]) == {"paired"}
    assert len(frame) > 150
    assert not frame["significant"].any()
    assert (frame["difference"].dropna() == 0.0).all()


@pytest.mark.slow
def test_identical_scenarios_on_other_seeds_show_only_chance_differences(
    base_runs: dict[str, Run],
) -> None:
    frame = compare_runs(base_runs["first"], [base_runs["other_seeds"]]).frame
    assert set(frame["method"]) == {"welch"}
    judged = frame[frame["ci95_low"].notna()]
    assert len(judged) > 150
    # At 95 % each KPI is a false positive with chance 5 %. The KPIs are correlated (a mean
    # and its percentiles move together), so the count varies more than a binomial's; the
    # bound is the 5 % expectation plus four binomial standard deviations.
    expected = 0.05 * len(judged)
    bound = expected + 4 * math.sqrt(len(judged) * 0.05 * 0.95)
    assert judged["significant"].sum() <= bound


@pytest.mark.slow
def test_more_lanes_at_an_overloaded_gate_cut_the_gate_wait_significantly(
    tmp_path: Path,
) -> None:
    plan = RunPlan(replications=5, days=1, seed=3)
    one_lane = scenario_run(tmp_path, "one", OVERLOADED_GATE.format(name="one-lane", lanes=1), plan)
    three = scenario_run(tmp_path, "three", OVERLOADED_GATE.format(name="three", lanes=3), plan)
    frame = compare_runs(one_lane, [three]).frame
    wait = frame[(frame["scope"] == "yuzui") & (frame["kpi"] == "gate_wait_min.mean")].iloc[0]
    assert wait["method"] == "paired"
    assert wait["base"] > 2.0  # overloaded: minutes of waiting on average (today: seconds)
    assert wait["significant"]
    assert wait["ci95_high"] < 0
    untouched = frame[(frame["scope"] == "tuanjiecun") & (frame["kpi"] == "gate_wait_min.mean")]
    assert len(untouched) == 1
    assert untouched["difference"].iloc[0] == 0.0  # the other yards drew the same numbers


def test_ranking_puts_the_most_hours_saved_first_per_yard() -> None:
    rows = [
        ["a", "yuzui", "dwell_h.mean", 30.0, 28.0, -2.0, -3.0, -1.0, True, "paired", 5, 5],
        ["b", "yuzui", "dwell_h.mean", 30.0, 25.0, -5.0, -6.0, -4.0, True, "paired", 5, 5],
        ["c", "yuzui", "dwell_h.mean", 30.0, 31.0, 1.0, -1.0, 3.0, False, "paired", 5, 5],
        ["b", "yuzui", "trucks", 1.0, 2.0, 1.0, 0.5, 1.5, True, "paired", 5, 5],
    ]
    ranked = ranking(pd.DataFrame(rows, columns=COLUMNS))
    assert list(ranked["scenario"]) == ["b", "a", "c"]
    assert list(ranked["hours_saved"]) == [5.0, 2.0, -1.0]
    assert list(ranked["saved_low"]) == [4.0, 1.0, -3.0]


def cli(*argv: str) -> int:
    return main(list(argv))


@pytest.mark.slow
def test_compare_run_directories_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, lanes = tmp_path / "base", tmp_path / "lanes"
    scenario = tmp_path / "two-lanes.toml"
    scenario.write_text("[stations.yuzui.gate]\nlanes = 2\n", encoding="utf-8")
    assert cli("simulate", "--days", "1", "--seed", "2", "--quiet", "--out", str(base)) == 0
    assert cli(
        "simulate", "--days", "1", "--seed", "2", "--quiet", "--out", str(lanes),
        "--scenario", str(scenario),
    ) == 0  # fmt: skip
    out = tmp_path / "report"
    assert cli("compare", str(base), str(lanes), "--out", str(out)) == 0
    frame = pd.read_csv(out / "comparison.csv")
    assert set(frame["method"]) == {"welch"}  # one replication each: no interval, no verdict
    assert frame["ci95_low"].isna().all()
    assert "No significant difference" in (out / "comparison.md").read_text("utf-8")
    html = (out / "report.html").read_text("utf-8")
    assert html.index('id="ranking"') < html.index('id="dwell"')
    assert "wrote" in capsys.readouterr().out


def test_a_run_directory_with_replications_is_read_per_replication(tmp_path: Path) -> None:
    report = {"run": {"seed": 7}, "yards": {"yuzui": {}}, "corridor": {}}
    (tmp_path / "kpis.json").write_text(json.dumps(report), encoding="utf-8")
    pd.DataFrame(
        {
            "replication": [0, 0, 1, 1],
            "scope": ["yuzui", "corridor", "yuzui", "corridor"],
            "kpi": ["dwell_h.mean"] * 4,
            "value": [10.0, 11.0, 12.0, None],
        }
    ).to_parquet(tmp_path / "replications.parquet")
    run = read_run_directory(tmp_path)
    assert run.values["yuzui"]["dwell_h.mean"] == [10.0, 12.0]
    assert run.values["corridor"]["dwell_h.mean"] == [11.0, None]
    assert run.draws == ("7/0", "7/1")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["compare", "nowhere", "also-nowhere", "--out", "x"], "nowhere: no such run directory"),
        (["compare", "README.md", "README.md", "--out", "x"], "expected a run directory or"),
        (["compare", "scenarios/baseline.toml", "x.toml", "--out", "x", "--days", "0"], "--days"),
        (["compare", "scenarios/baseline.toml", "scenarios/nope.toml", "--out", "x"], "nope.toml"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(*argv) == 2
    error = capsys.readouterr().err
    assert message in error
    assert error.count("\n") == 1


def test_every_run_is_checked_before_any_is_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A mistyped last scenario is named at once, not after the base's replications have run."""

    def never(_task: object) -> None:
        raise AssertionError("a replication ran before every path was checked")

    monkeypatch.setattr("corridor.compare.runs._run_one", never)
    (tmp_path / "broken.toml").write_text("lanes = = 1\n")
    empty = tmp_path / "empty-run"
    empty.mkdir()
    for last, message in [
        ("scenarios/nope.toml", "nope.toml"),
        (str(tmp_path / "broken.toml"), "not valid TOML"),
        (str(empty), "not a run directory"),
        ("nowhere", "no such run directory"),
    ]:
        assert cli("compare", "scenarios/baseline.toml", last, "--out", str(tmp_path)) == 2
        error = capsys.readouterr().err
        assert message in error
        assert error.count("\n") == 1


def replicated_run_directory(folder: Path, dwell: list[float]) -> Path:
    """A run directory as `--replications N` writes it, with one KPI."""
    folder.mkdir()
    report = {"run": {"seed": 7}, "yards": {"yuzui": {}}, "corridor": {}}
    (folder / "kpis.json").write_text(json.dumps(report), encoding="utf-8")
    pd.DataFrame(
        {
            "replication": range(len(dwell)),
            "scope": ["yuzui"] * len(dwell),
            "kpi": ["dwell_h.mean"] * len(dwell),
            "value": dwell,
        }
    ).to_parquet(folder / "replications.parquet")
    return folder


def test_compare_replicated_run_directories_pairs_them_and_ranks(tmp_path: Path) -> None:
    base = replicated_run_directory(tmp_path / "base", [30.0, 32.0, 31.0])
    lever = replicated_run_directory(tmp_path / "lever", [25.0, 26.5, 26.0])
    assert cli("compare", str(base), str(lever), "--out", str(tmp_path / "out"), "--quiet") == 0
    frame = pd.read_csv(tmp_path / "out" / "comparison.csv")
    row = frame.iloc[0]
    assert (row["method"], row["kpi"], bool(row["significant"])) == ("paired", "dwell_h.mean", True)
    assert row["difference"] == pytest.approx(-5.1666667)
    assert "+5.17" in (tmp_path / "out" / "report.html").read_text("utf-8")


def test_an_unwritable_report_folder_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = replicated_run_directory(tmp_path / "base", [30.0, 32.0])
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    assert cli("compare", str(base), str(base), "--out", str(blocker / "out")) == 2
    error = capsys.readouterr().err
    assert "cannot write the report" in error
    assert error.count("\n") == 1

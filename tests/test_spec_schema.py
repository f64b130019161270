"""Station files and scenarios go through one schema: every bad file is refused with the path
of the bad key, in one line, never with a traceback (issue 11, item 6)."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from corridor.scenario import load_scenario
from stations.catalog import StationFileError
from stations.spec import load_all_stations
from tests.yard_files import FOURTH_IDENTITY, extra_station_dir, physics_of

REPO = Path(__file__).resolve().parent.parent
XNY = "stations.xiaonanya"
DEPARTURE = 'service = "s", departure = "09:30", destination = "d"'


def timetable(*entries: str) -> str:
    """A scenario replacing 小南垭's timetable with these entries (inline tables' insides)."""
    rows = ",\n  ".join(f"{{ {entry} }}" for entry in entries)
    return f"[stations.xiaonanya.rail]\ntimetable = [\n  {rows},\n]\n"


GOOD = f"{DEPARTURE}, capacity_teu = 100, cutoff_h = 3.0"
BAD_SCENARIOS = [
    # (scenario text, the path the error must name, words of the reason)
    (
        timetable(GOOD, GOOD, f"{DEPARTURE}, capacty_teu = 500, cutoff_h = 3.0"),
        f"{XNY}.rail.timetable[2].capacty_teu",
        "did you mean 'capacity_teu'",
    ),
    (
        timetable(f"{DEPARTURE}, capacity_teu = 100, cutoff_h = -3"),
        f"{XNY}.rail.timetable[0].cutoff_h",
        "at least 0",
    ),
    (
        timetable(f"{DEPARTURE}, capacity_teu = 0, cutoff_h = 3"),
        f"{XNY}.rail.timetable[0].capacity_teu",
        "at least 1",
    ),
    (timetable(GOOD.replace("09:30", "25:00")), f"{XNY}.rail.timetable[0].departure", "HH:MM"),
    (
        "[stations.xiaonanya.reefer]\nambient_monthly_c = [500, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]\n",
        f"{XNY}.reefer.ambient_monthly_c[0]",
        "at most 60",
    ),
    (
        "[stations.xiaonanya.reefer]\nambient_monthly_c = [20.0]\n",
        f"{XNY}.reefer.ambient_monthly_c",
        "at least 12 items",
    ),
    (
        "[stations.xiaonanya.reefer]\nhysteresis_c = -4\n",
        f"{XNY}.reefer.hysteresis_c",
        "at least 0",
    ),
    (
        "[stations.xiaonanya.reefer]\nhysteresis_c = 1.5\n",
        f"{XNY}.reefer.hysteresis_c",
        "never clear",
    ),
    (
        "[stations.xiaonanya.reefer]\nmin_duration_min = -15\n",
        f"{XNY}.reefer.min_duration_min",
        "at least 0",
    ),
    (
        "[stations.xiaonanya.inspection]\nshare_reefer = 1.2\n",
        f"{XNY}.inspection.share_reefer",
        "at most 1",
    ),
    (
        '[stations.xiaonanya.traffic.import_pickup_h]\ndist = "lognormal"\nmaen = 20\nsd = 5\n',
        f"{XNY}.traffic.import_pickup_h.maen",
        "did you mean 'mean'",
    ),
    (
        '[stations.xiaonanya.gate.service_min]\ndist = "weibull"\nshape = 2\n',
        f"{XNY}.gate.service_min.dist",
        "unknown distribution 'weibull'",
    ),
    (
        '[stations.xiaonanya.gate.service_min]\ndist = "triangular"\nlow = 3\nmode = 1\nhigh = 2\n',
        f"{XNY}.gate.service_min",
        "low <= mode <= high",
    ),
    (
        "[stations.xiaonanya.gate]\nyard_drive_min = -5\n",
        f"{XNY}.gate.yard_drive_min.value",
        "non-negative",
    ),
    (
        '[stations.xiaonanya.gate]\nlanes = "four"\n',
        f"{XNY}.gate.lanes",
        "expected a whole number, got 'four'",
    ),
    ("[stations.xiaonanya.gate]\nlanse = 4\n", f"{XNY}.gate.lanse", "did you mean 'lanes'"),
    (
        "[stations.xiaonanya.traffic]\nhourly_profile = [1, 2]\n",
        f"{XNY}.traffic.hourly_profile",
        "needs 24",
    ),
    ("[stations.chaotianmen.gate]\nlanes = 4\n", "stations.chaotianmen", "unknown station"),
    ("[run]\nseed = -1\n", "run.seed", "at least 0"),
    ("[run]\nstart = 2026-03-02T00:00:00\n", "run.start", "timezone"),
    ("[runs]\nseed = 1\n", "runs", "did you mean 'run'"),
]


@pytest.mark.parametrize(("text", "path", "reason"), BAD_SCENARIOS)
def test_a_bad_scenario_is_refused_in_one_line_naming_the_path(
    tmp_path: Path, text: str, path: str, reason: str
) -> None:
    scenario = tmp_path / "bad.toml"
    scenario.write_text(text, "utf-8")
    with pytest.raises(ValueError) as error:
        load_scenario(scenario)
    message = str(error.value)
    assert message.startswith(f"{scenario}: {path}: ")
    assert reason in message
    assert "\n" not in message


def test_the_table_has_at_least_fifteen_bad_files() -> None:
    assert len(BAD_SCENARIOS) + len(BAD_STATION_FILES) >= 15


BAD_STATION_FILES = [
    (
        "capacity_teu = 90, cutoff_h = 4.0 }",
        "capacity_teu = 90, cutoff_h = 4.0, gate = 2 }",
        "rail.timetable[0].gate",
    ),
    ("[reefer]", "[reefer]\nambient_c = 28.0", "reefer.ambient_c"),
    ("hysteresis_c = 0.5", "hysteresis_c = -4.0", "reefer.hysteresis_c"),
    (
        '{ dist = "lognormal", mean = 72.0,',
        '{ dist = "lognormal", maen = 72.0,',
        "traffic.import_pickup_h.maen",
    ),
]


@pytest.mark.parametrize(("old", "new", "path"), BAD_STATION_FILES)
def test_a_bad_station_file_is_refused_naming_the_file_and_the_path(
    tmp_path: Path, old: str, new: str, path: str
) -> None:
    physics = physics_of("yuzui")
    assert old in physics
    station = tmp_path / "guoyuan.toml"
    station.write_text(FOURTH_IDENTITY + physics.replace(old, new, 1), "utf-8")
    with extra_station_dir(tmp_path), pytest.raises(StationFileError) as error:
        load_all_stations()
    assert str(error.value).startswith(f"{station.resolve()}: {path}: ")


@pytest.mark.parametrize(("text", "path", "reason"), [BAD_SCENARIOS[i] for i in (0, 6, 10, 19)])
def test_the_cli_refuses_a_bad_scenario_with_exit_code_2_and_one_line(
    tmp_path: Path, text: str, path: str, reason: str
) -> None:
    scenario = tmp_path / "bad.toml"
    scenario.write_text(text, "utf-8")
    command = "import sys; from corridor.cli import main; sys.exit(main(sys.argv[1:]))"
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            command,
            "simulate",
            "--days",
            "1",
            "--scenario",
            str(scenario),
            "--out",
            str(tmp_path / "out"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"{path}: " in lines[0]
    assert reason in lines[0]
    assert "Traceback" not in done.stderr


def test_a_good_override_still_goes_through(tmp_path: Path) -> None:
    scenario = tmp_path / "good.toml"
    scenario.write_text(
        textwrap.dedent("""\
            [stations.xiaonanya.gate]
            lanes = 7
            service_min = 0.5
            """),
        "utf-8",
    )
    spec = load_scenario(scenario).stations["xiaonanya"]
    assert spec.gate.lanes == 7
    assert spec.gate.service_min.mean == 0.5

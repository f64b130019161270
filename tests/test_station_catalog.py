"""The catalogue of station files: found in the package and in extra directories, validated
with errors that name the file and the key, and the only place the yards are listed."""

import re
import subprocess
from pathlib import Path

import pytest

from corridor.contract.dcsa import facility_codes
from corridor.scenario import DEFAULT_START
from corridor.traffic.generator import generate
from stations.catalog import StationFileError, catalog, station_ids
from stations.spec import load_all_stations, load_station
from tests.yard_files import (
    FOURTH,
    FOURTH_CODE,
    FOURTH_IDENTITY,
    extra_station_dir,
    physics_of,
    write_fourth_yard,
)

REPO = Path(__file__).resolve().parent.parent


def test_the_package_yards_are_its_station_files() -> None:
    files = sorted(path.stem for path in (REPO / "stations" / "data").glob("*.toml"))
    assert list(station_ids()) == files
    assert list(load_all_stations()) == files


def test_a_yard_in_an_extra_directory_joins_the_catalogue(tmp_path: Path) -> None:
    before = station_ids()
    write_fourth_yard(tmp_path)
    with extra_station_dir(tmp_path):
        assert station_ids() == tuple(sorted([*before, FOURTH]))
        assert catalog().files[FOURTH] == str(tmp_path.resolve() / f"{FOURTH}.toml")
        spec = load_station(FOURTH)
        assert (spec.name_zh, spec.identity.code) == ("果园港", FOURTH_CODE)
        assert facility_codes(load_all_stations())[FOURTH_CODE.casefold()] == FOURTH
    assert station_ids() == before


def broken(tmp_path: Path, identity: str, physics: str | None = None) -> Path:
    """A fourth-yard file with the given identity part (and 鱼嘴's physics unless given)."""
    path = tmp_path / f"{FOURTH}.toml"
    path.write_text(identity + (physics_of("yuzui") if physics is None else physics), "utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('colour = "#6b46c1"', 'colour = "purple"'), "dashboard.colour: expected a colour"),
        (('code = "GYG"', 'code = "gy g"'), "code: expected 2-8 upper-case letters"),
        (("serial_block = 2", "serial_block = 3"), "containers.serial_block: expected 0, 1 or 2"),
        (("'CQGU'", "'CQG1'"), "containers.owner_codes: 'CQG1' is not an ISO 6346 owner code"),
        (('name_zh = "果园港"\n', ""), "name_zh: missing"),
        (("[dashboard]", "[dash]"), "dash: unknown key; did you mean 'dashboard'?"),
        (('id = "guoyuan"', 'id = "yuzui2"'), "id: expected 'guoyuan' (the file's name)"),
    ],
)
def test_a_bad_identity_is_refused_naming_the_file_and_the_key(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    assert change[0] in FOURTH_IDENTITY
    path = broken(tmp_path, FOURTH_IDENTITY.replace(*change))
    with extra_station_dir(tmp_path), pytest.raises(StationFileError) as error:
        load_all_stations()
    assert str(error.value).startswith(f"{path.resolve()}: {message}")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("lanes = 4 ", "lanes = 0 "), "gate.lanes: expected a whole number of at least 1"),
        (("[stack]", "[stacks]"), "stacks: unknown key; did you mean 'stack'?"),
        (('departure = "', 'departure = "x'), "rail.timetable[0].departure: expected HH:MM"),
        (
            ("hourly_profile = [", "hourly_profile = [true, "),
            "traffic.hourly_profile[0]: expected a number, got true",
        ),
        (("timetable = [", "timetable = 3\nold = ["), "rail.timetable: expected a list"),
    ],
)
def test_bad_physics_are_refused_naming_the_file_and_the_key(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    physics = physics_of("yuzui")
    assert change[0] in physics
    path = broken(tmp_path, FOURTH_IDENTITY, physics.replace(*change, 1))
    with extra_station_dir(tmp_path), pytest.raises(StationFileError) as error:
        load_all_stations()
    assert str(error.value).startswith(f"{path.resolve()}: {message}")


def test_a_file_that_is_not_toml_is_refused_naming_it(tmp_path: Path) -> None:
    path = broken(tmp_path, 'id = "guoyuan\n')
    with extra_station_dir(tmp_path), pytest.raises(StationFileError) as error:
        station_ids()
    assert str(error.value).startswith(f"{path.resolve()}: not a TOML file")


def test_a_yard_defined_twice_is_refused_naming_both_files(tmp_path: Path) -> None:
    (tmp_path / "yuzui.toml").write_text(
        FOURTH_IDENTITY.replace(f'"{FOURTH}"', '"yuzui"', 1), "utf-8"
    )
    with extra_station_dir(tmp_path), pytest.raises(StationFileError) as error:
        station_ids()
    assert re.fullmatch(
        r".*yuzui\.toml: id 'yuzui' is already defined by .*yuzui\.toml", str(error.value)
    )


@pytest.mark.parametrize(
    ("change", "key", "value", "owner"),
    [
        (('code = "GYG"', 'code = "YZU"'), "code", "YZU", "yuzui"),
        (('"GYG"]', '"TJC"]'), "dcsa.facility_codes", "TJC", "tuanjiecun"),
    ],
)
def test_two_yards_with_one_code_are_refused(
    tmp_path: Path, change: tuple[str, str], key: str, value: str, owner: str
) -> None:
    path = broken(tmp_path, FOURTH_IDENTITY.replace(*change))
    with extra_station_dir(tmp_path), pytest.raises(StationFileError) as error:
        load_all_stations()
    files = sorted([str(path.resolve()), catalog().files[owner]])
    assert str(error.value) in {
        f"{later}: {key}: {value!r} is already used by {earlier}"
        for later, earlier in (files, files[::-1])
    }


def test_two_yards_drawing_the_same_container_numbers_are_refused(tmp_path: Path) -> None:
    broken(tmp_path, FOURTH_IDENTITY.replace("owner_codes = ['CQGU', 'GYPU']\n", ""))
    with extra_station_dir(tmp_path):
        stations = load_all_stations()
        with pytest.raises(
            ValueError,
            match=r"yuzui.containers: serial block 2 under owner code CBHU is already guoyuan's",
        ):
            generate(stations, days=1, seed=1, start=DEFAULT_START)


def test_a_missing_extra_directory_is_refused(tmp_path: Path) -> None:
    with (
        extra_station_dir(tmp_path / "absent"),
        pytest.raises(StationFileError, match="absent: not a directory"),
    ):
        station_ids()


def test_no_code_file_lists_the_yards() -> None:
    """Ids, names, codes and colours of two or more yards on one line are a list of yards:
    the station files may hold one, no module of the four packages (one as an example is fine)."""
    names = {
        word: spec.id
        for spec in load_all_stations().values()
        for word in (spec.id, spec.name_zh, spec.identity.code, spec.identity.dashboard_colour)
    }
    patterns = [arg for name in names for arg in ("-e", name)]
    found = subprocess.run(
        ["git", "grep", "-n", "-I", *patterns, "--", "corridor", "stations", "streams", "api",
         ":!stations/data"],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if found.returncode not in (0, 1):
        pytest.skip(f"needs a git checkout: {found.stderr.strip()}")
    lists = [
        line
        for line in found.stdout.splitlines()
        if len({yard for name, yard in names.items() if name in line.split(":", 2)[-1]}) >= 2
    ]
    assert lists == []

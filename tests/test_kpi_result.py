"""One KPI result type: the report builds it, the store validates with it, the API's schema is
generated from it, and docs/kpis.md documents exactly its fields."""

import json
import re
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter
from typing_extensions import is_typeddict

from api.kpi_responses import validate_kpis
from api.responses import KPIS_EXAMPLE, HistoryPoint, KpiView
from api.store.sql_store import SqlStore
from corridor.kpis.result import KpiReport, Kpis
from corridor.store_contract import KpiSnapshot, TwinBatch
from tests.api_fixtures import T0, sample_kpis
from tests.kpi_builders import box, frames, queue, report, truck

DOCS = Path(__file__).resolve().parent.parent / "docs" / "kpis.md"
ROW = re.compile(r"^\| `(?P<path>[^`]+)` \|")


def fields(shape: Any, prefix: str = "") -> dict[str, Any]:
    """Every path of a TypedDict, nested ones included, with the type there."""
    paths: dict[str, Any] = {}
    for name, kind in typing.get_type_hints(shape).items():
        path = f"{prefix}{name}"
        paths[path] = kind
        if is_typeddict(kind):
            paths.update(fields(kind, f"{path}."))
    return paths


def figures(shape: Any) -> set[str]:
    """The paths that hold a number (not a group of them)."""
    return {path for path, kind in fields(shape).items() if not is_typeddict(kind)}


def documented() -> list[str]:
    """The first column of the definitions table in docs/kpis.md."""
    table = DOCS.read_text(encoding="utf-8").split("## Definitions", 1)[1].split("\n## ", 1)[0]
    return [match["path"] for line in table.splitlines() if (match := ROW.match(line))]


def report_paths(value: Any, prefix: str = "") -> set[str]:
    """The leaf paths of a nest of dicts."""
    if not isinstance(value, dict):
        return {prefix.rstrip(".")}
    return {path for key, item in value.items() for path in report_paths(item, f"{prefix}{key}.")}


def is_covered(path: str, rows: list[str]) -> bool:
    """A figure is documented by its own row or by a row for its group; a figure of a
    `dwell_h.by` group by that group's row and the row of the same figure of `dwell_h`."""
    if path in rows or path.rpartition(".")[0] in rows:
        return True
    parts = path.split(".")
    if parts[:2] == ["dwell_h", "by"] and len(parts) > 3:
        return ".".join(parts[:3]) in rows and is_covered(".".join(["dwell_h", *parts[3:]]), rows)
    return False


def test_every_kpi_field_is_documented_and_nothing_else_is() -> None:
    rows = documented()
    known = fields(Kpis)
    assert [row for row in rows if row not in known] == []  # a row that names no field
    assert sorted(path for path in figures(Kpis) if not is_covered(path, rows)) == []


@pytest.mark.parametrize(
    ("row", "uncovered"),
    [
        ("throughput.lifts", ["throughput.lifts"]),
        (
            "dwell_h.in_yard.over_24h",
            [
                f"dwell_h{by}.in_yard.over_24h"
                for by in ("", ".by.export", ".by.import", ".by.reefer")
            ],
        ),
        ("dwell_h.by.reefer", [p for p in figures(Kpis) if p.startswith("dwell_h.by.reefer.")]),
    ],
)
def test_the_docs_check_would_catch_a_missing_row(row: str, uncovered: list[str]) -> None:
    rows = documented()
    assert row in rows
    without = [other for other in rows if other != row]
    assert sorted(p for p in figures(Kpis) if not is_covered(p, without)) == sorted(uncovered)


def test_the_report_has_exactly_the_fields_of_the_type() -> None:
    data = frames(
        truck("tuanjiecun", 0.0, 1.0, 30.0),
        box("tuanjiecun", "export", 0.0, 600.0),
        *queue("tuanjiecun", (0.0, 2.0)),
    )
    made = report(data)
    assert report_paths(dict(made["corridor"])) == figures(Kpis)
    for kpis in made["yards"].values():
        assert report_paths(dict(kpis)) == figures(Kpis)
    assert set(made) == set(typing.get_type_hints(KpiReport))
    assert TypeAdapter(KpiReport).validate_python(json.loads(json.dumps(made))) == made


def test_the_api_schema_is_generated_from_the_core_type() -> None:
    assert KpiView.model_fields["kpis"].annotation is Kpis
    assert HistoryPoint.model_fields["kpis"].annotation is Kpis
    core = TypeAdapter(Kpis).json_schema()["$defs"]
    api = KpiView.model_json_schema()["$defs"]
    assert {name: api[name] for name in core} == core
    assert validate_kpis(KPIS_EXAMPLE) == KPIS_EXAMPLE


@pytest.mark.parametrize(
    ("damage", "field"),
    [
        (lambda k: k.pop("trucks"), "trucks"),
        (lambda k: k["dwell_h"]["by"].pop("import"), "import"),
        (lambda k: k["reefer"].update(readings="many"), "readings"),
        (lambda k: k["utilisation"].update(gate="busy"), "gate"),
    ],
)
def test_the_store_refuses_a_snapshot_that_is_not_the_type(
    store: SqlStore, damage: Any, field: str
) -> None:
    kpis: dict[str, Any] = json.loads(json.dumps(sample_kpis()))
    damage(kpis)
    snapshot = KpiSnapshot("yuzui", "1h", T0, T0, kpis)
    with pytest.raises(ValueError, match=field):
        store.commit(TwinBatch("g", {}, snapshots=[snapshot]))
    store.commit(TwinBatch("g", {}, snapshots=[KpiSnapshot("yuzui", "1h", T0, T0, sample_kpis())]))

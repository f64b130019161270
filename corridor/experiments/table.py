"""`replications.parquet`: every KPI of every replication, one row each, long form.

Columns (documented in `docs/outputs.md`): `replication` (0, 1, ...), `scope` (a yard id, or
`corridor` for the corridor as a whole), `kpi` (the figure's dotted path in the KPI block of
`kpis.json`, e.g. `dwell_h.by.export.p95`) and `value` (float; null where the replication has
no such figure). Rows are ordered by replication, then scope (yards in scenario order, the
corridor last), then the KPI block's order. `replication_values` reads it back as
scope -> KPI -> values in replication order, which is what an interval or a comparison of two
runs needs.
"""

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from corridor.kpis.result import KpiReport

FILE_NAME = "replications.parquet"
CORRIDOR_SCOPE = "corridor"
SCHEMA = pa.schema(
    [
        ("replication", pa.int32()),
        ("scope", pa.string()),
        ("kpi", pa.string()),
        ("value", pa.float64()),
    ]
)

ReplicationValues = dict[str, dict[str, list[float | None]]]
"""scope (a yard id, or "corridor") -> KPI path -> one value per replication, in order."""


def replication_table(reports: Sequence[KpiReport]) -> pa.Table:
    """The long table of the replications' reports (replication i is `reports[i]`)."""
    columns: dict[str, list[Any]] = {name: [] for name in SCHEMA.names}
    for replication, report in enumerate(reports):
        scopes: list[tuple[str, Mapping[str, Any]]] = [
            *report["yards"].items(),
            (CORRIDOR_SCOPE, report["corridor"]),
        ]
        for scope, block in scopes:
            for kpi, value in _leaves(block, ""):
                columns["replication"].append(replication)
                columns["scope"].append(scope)
                columns["kpi"].append(kpi)
                columns["value"].append(value)
    return pa.table(columns, schema=SCHEMA)


def write_table(reports: Sequence[KpiReport], out: Path) -> Path:
    """Write `replications.parquet` into the directory `out`; returns its path."""
    path = out / FILE_NAME
    pq.write_table(replication_table(reports), path)
    return path


def replication_values(table: pa.Table | pd.DataFrame) -> ReplicationValues:
    """Per scope and KPI, the values of every replication in replication order."""
    frame = table.to_pandas() if isinstance(table, pa.Table) else table
    missing = set(SCHEMA.names) - set(frame.columns)
    if missing:
        raise ValueError(f"{FILE_NAME}: missing column(s) {', '.join(sorted(missing))}")
    values: ReplicationValues = {}
    ordered = frame.sort_values("replication", kind="stable")
    for replication, scope, kpi, value in ordered[list(SCHEMA.names)].itertuples(index=False):
        series = values.setdefault(str(scope), {}).setdefault(str(kpi), [])
        if len(series) != replication:
            raise ValueError(f"{FILE_NAME}: {scope} {kpi}: replication {replication} out of turn")
        series.append(None if pd.isna(value) else float(value))
    return values


def read_replication_values(run_directory: Path) -> ReplicationValues:
    """`replication_values` of the `replications.parquet` in a run's output directory."""
    path = Path(run_directory) / FILE_NAME
    if not path.is_file():
        raise ValueError(f"{path}: no such file (run with --replications 2 or more)")
    return replication_values(pq.read_table(path))


def _leaves(block: Mapping[str, Any], prefix: str) -> list[tuple[str, float | None]]:
    """(dotted path, value) of every figure in a KPI block, in the block's order."""
    leaves: list[tuple[str, float | None]] = []
    for key, value in block.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            leaves.extend(_leaves(value, f"{path}."))
        else:
            leaves.append((path, None if value is None else float(value)))
    return leaves

"""What a run leaves behind: `kpis.json`, the record tables, and a short terminal summary."""

from datetime import datetime
from pathlib import Path
from typing import Any

from corridor.engine.clock import to_minutes
from corridor.engine.twin import Twin
from corridor.kpis.record_frames import record_frames
from corridor.kpis.report import dumps_report, kpi_report
from corridor.scenario import Scenario


def write_outputs(
    twin: Twin, scenario: Scenario, seed: int, start: datetime, until: datetime, out: Path
) -> dict[str, Any]:
    """Write kpis.json and one Parquet file per record table into `out`; returns the report."""
    assert twin.epoch is not None
    frames = record_frames(twin)
    report = kpi_report(
        frames,
        start=to_minutes(start, twin.epoch),
        end=to_minutes(until, twin.epoch),
        stations=scenario.stations,
        reefer_readings=twin.reefer_readings(),
        seed=seed,
        epoch=twin.epoch,
        event_counts=twin.counts.as_dict(),
    )
    out.mkdir(parents=True, exist_ok=True)
    (out / "kpis.json").write_bytes(dumps_report(report))
    for name, frame in frames.items():
        frame.to_parquet(out / f"{name}.parquet", index=False)
    return report


def print_summary(report: dict[str, Any], out: Path, seconds: float) -> None:
    """A few lines an operator can read: per yard, trucks, turnaround, dwell vs 24 h."""
    period = report["run"]["period"]
    print(
        f"period {period['start']} .. {period['end']} ({period['days']:.2f} days), {seconds:.1f} s"
    )
    print(f"{'yard':<12}{'trucks':>8}{'turn p50':>10}{'turn p95':>10}{'dwell h':>9}{'<=24h':>8}")
    rows = [*report["yards"].items(), ("corridor", report["corridor"])]
    for name, kpis in rows:
        turn, dwell = kpis["truck_turn_min"], kpis["dwell_h"]
        share = dwell["share_within_24h"]
        print(
            f"{name:<12}{kpis['trucks']:>8}{_num(turn['p50']):>10}{_num(turn['p95']):>10}"
            f"{_num(dwell['mean']):>9}{'-' if share is None else f'{share:.0%}':>8}"
        )
    print(f"wrote {out / 'kpis.json'} and the record tables")


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"

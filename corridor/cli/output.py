"""What a run leaves behind: `kpis.json`, the record tables, and a short terminal summary."""

from pathlib import Path

from corridor.jobs import JobResult
from corridor.kpis.record_frames import write_record_tables
from corridor.kpis.report import dumps_report
from corridor.kpis.result import KpiReport


def write_outputs(result: JobResult, out: Path) -> None:
    """Write kpis.json and one Parquet file per record table into `out` (docs/outputs.md)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "kpis.json").write_bytes(dumps_report(result.report))
    assert result.epoch is not None  # a job's twin has applied at least one event
    write_record_tables(result.frames, result.epoch, out)


def print_summary(report: KpiReport, out: Path, seconds: float) -> None:
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

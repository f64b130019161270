"""What a run leaves behind: `kpis.json`, the record tables, and a short terminal summary."""

from collections.abc import Callable, Mapping
from datetime import datetime
from functools import partial
from pathlib import Path

from corridor.cli.errors import UserError
from corridor.engine.clock import to_minutes
from corridor.jobs import JobResult
from corridor.kpis.bottleneck import bottlenecks
from corridor.kpis.frames import Window
from corridor.kpis.record_frames import write_record_tables
from corridor.kpis.report import dumps_report
from corridor.kpis.result import KpiReport
from stations.spec import StationSpec


def write_outputs(
    result: JobResult, out: Path, *, written: Callable[[int], None] | None = None
) -> None:
    """Write kpis.json and one Parquet file per record table into `out` (docs/outputs.md).

    `written` is told how many files are done after each one (a progress bar). A write that
    fails (a full disk, a directory removed under the run) is a `UserError` naming the file.
    """
    epoch = result.epoch
    assert epoch is not None  # a job's twin has applied at least one event
    files: list[tuple[str, Callable[[], object]]] = [
        ("kpis.json", lambda: (out / "kpis.json").write_bytes(dumps_report(result.report)))
    ]
    for name, frame in result.frames.items():
        table = {name: frame}
        files.append((f"{name}.parquet", partial(write_record_tables, table, epoch, out)))
    out.mkdir(parents=True, exist_ok=True)
    for done, (name, write) in enumerate(files, 1):
        try:
            write()
        except OSError as error:
            reason = error.strerror or str(error)
            raise UserError(
                f"{out / name}: cannot write ({reason}); choose another --out"
            ) from None
        if written is not None:
            written(done)


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


def bottleneck_line(result: JobResult, stations: Mapping[str, StationSpec]) -> str:
    """Per yard, what held it back over the report's period (`corridor.kpis.bottleneck`)."""
    period, epoch = result.report["run"]["period"], result.epoch
    if epoch is None or not result.frames:
        return "bottleneck: -"
    start = to_minutes(datetime.fromisoformat(period["start"]), epoch)
    end = to_minutes(datetime.fromisoformat(period["end"]), epoch)
    if not end > start:
        return "bottleneck: -"
    named = []
    for yard in bottlenecks(result.frames, stations, Window(start, end)):
        load = next((r for r in yard.resources if r.resource == yard.bottleneck), None)
        if load is None:
            named.append(f"{yard.yard} none")
            continue
        wait = "" if load.wait_mean_min is None else f", mean wait {load.wait_mean_min:.0f} min"
        named.append(f"{yard.yard} {load.resource} ({load.utilisation:.0%} busy{wait})")
    return "bottleneck: " + " · ".join(named)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"

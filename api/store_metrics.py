"""The store's figures for `/metrics`: a `prometheus_client` collector read on each scrape.

The KPIs, boxes, dead letters, flags, alarms and worker progress live in the SQL store the
worker commits to, so they are not counters this process increments: `StoreMetrics.collect`
reads the store when Prometheus scrapes and yields metric families (the library's custom
collector pattern), and `describe` names them without reading anything, so the registry
refuses a second metric of the same name when the app is built. KPI gauges flatten each
latest snapshot: `corridor_kpi{scope="yuzui",window="24h",kpi="dwell_h.p50"}`.
"""

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy import Engine

from api.reefer_metrics import REEFER_FAMILIES, add_reefer_breaches
from api.settings import WINDOWS
from api.store import readers

DWELL_TARGET_H = 24.0  # the corridor's one-day target for cargo in a yard


def flatten(kpis: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, float]]:
    """Numeric leaves of a KPI block as (dotted name, value); nulls are skipped."""
    for key, value in kpis.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from flatten(value, f"{name}.")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            yield name, float(value)


SCOPED = ("scope", "window")
FAMILIES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("corridor_kpi", "gauge", "Latest KPI figure by scope, window and name.", (*SCOPED, "kpi")),
    ("corridor_kpi_as_of_seconds", "gauge", "Event time of the latest snapshot.", SCOPED),
    (
        "corridor_dwell_stage_hours",
        "gauge",
        "Mean hours a box spends in each stage of its dwell (dwell_h.stages), by direction.",
        (*SCOPED, "direction", "stage"),
    ),
    ("corridor_boxes_in_yard", "gauge", "Boxes in the yard at its twin clock.", ("yard",)),
    (
        "corridor_boxes_over_24h",
        "gauge",
        "Boxes in the yard for 24 h or more at its twin clock (the one-day target).",
        ("yard",),
    ),
    (
        "corridor_dead_letters_total",
        "counter",
        "Messages that could not be applied, by reason.",
        ("reason",),
    ),
    (
        "corridor_input_flags_total",
        "counter",
        "Valid events applied but flagged (gate-out before gate-in, key not the yard), by kind.",
        ("kind",),
    ),
    (
        "corridor_open_reefer_alarms",
        "gauge",
        "Reefers in alarm or in excursion, by yard.",
        ("yard",),
    ),
    (
        "corridor_worker_yard_ahead_seconds",
        "gauge",
        "Yard clock ahead of the newest input by more than the lateness.",
        ("group", "yard"),
    ),
    ("corridor_worker_last_commit_seconds", "gauge", "Wall time of the last commit.", ("group",)),
    ("corridor_worker_last_event_seconds", "gauge", "Latest archived event time.", ("group",)),
    ("corridor_worker_lag_messages", "gauge", "Messages behind the feeds' ends.", ("group",)),
    *REEFER_FAMILIES,
)
"""(name, type, help, labels) of every family the store gives, in exposition order."""

Family = GaugeMetricFamily | CounterMetricFamily


def _families() -> dict[str, Family]:
    """Every family, empty, by its name as written (a counter's with `_total`)."""
    made: dict[str, Family] = {}
    for name, kind, doc, labels in FAMILIES:
        kind_of = CounterMetricFamily if kind == "counter" else GaugeMetricFamily
        made[name] = kind_of(name, doc, labels=labels)
    return made


class StoreMetrics:
    """A collector of the store's figures for the given yards (and the corridor as a whole)."""

    def __init__(self, engine: Engine, yards: Iterable[str]) -> None:
        self.engine = engine
        self.yards = list(yards)

    def describe(self) -> Iterator[Metric]:
        """The families' names and types, without touching the store."""
        yield from _families().values()

    def collect(self) -> Iterator[Metric]:
        """Read the store now and yield every family (a family with no sample says no data)."""
        families = _families()
        self._snapshots(families)
        self._boxes(families)
        dead = families["corridor_dead_letters_total"]
        for letters in readers.dead_letter_counts(self.engine):
            dead.add_metric([letters.reason], letters.count)
        flags = families["corridor_input_flags_total"]
        for kind, count in readers.input_flag_counts(self.engine).items():
            flags.add_metric([kind], count)
        alarms = readers.open_alarm_counts(self.engine)
        for yard in self.yards:
            families["corridor_open_reefer_alarms"].add_metric([yard], alarms.get(yard, 0))
        self._workers(families)
        gauges = {name: f for name, f in families.items() if isinstance(f, GaugeMetricFamily)}
        add_reefer_breaches(self.engine, self.yards, gauges)
        yield from families.values()

    def _snapshots(self, families: Mapping[str, Family]) -> None:
        """The latest snapshot of every scope and window: its figures, time and dwell stages."""
        for scope in [*self.yards, "corridor"]:
            for window in WINDOWS:
                snapshot = readers.latest_snapshot(self.engine, scope=scope, window=window)
                if snapshot is None:
                    continue
                labels = [snapshot.scope, snapshot.window]
                families["corridor_kpi_as_of_seconds"].add_metric(
                    labels, snapshot.as_of.timestamp()
                )
                for name, value in flatten(snapshot.kpis):
                    families["corridor_kpi"].add_metric([*labels, name], value)
                for direction, stage, hours in _stages(snapshot.kpis):
                    families["corridor_dwell_stage_hours"].add_metric(
                        [*labels, direction, stage], hours
                    )

    def _boxes(self, families: Mapping[str, Family]) -> None:
        """Boxes in each yard now and those over the 24 h target (the live view, not a window)."""
        over = readers.overdue_counts(self.engine, yard=None, min_age_h=DWELL_TARGET_H)
        for yard in self.yards:
            state = readers.yard_state(self.engine, yard=yard)
            if state is None:  # no live view of this yard yet: no figure rather than a false 0
                continue
            families["corridor_boxes_in_yard"].add_metric([yard], state["boxes_in_yard"])
            count = sum(over.get(yard, {}).values())
            families["corridor_boxes_over_24h"].add_metric([yard], count)

    def _workers(self, families: Mapping[str, Family]) -> None:
        for row in readers.workers(self.engine):
            ahead = families["corridor_worker_yard_ahead_seconds"]
            for yard, seconds in sorted((row.yards_ahead or {}).items()):
                ahead.add_metric([row.group, yard], seconds)
            families["corridor_worker_last_commit_seconds"].add_metric(
                [row.group], row.committed_at.timestamp()
            )
            if row.last_event_time is not None:
                families["corridor_worker_last_event_seconds"].add_metric(
                    [row.group], row.last_event_time.timestamp()
                )
            if row.lag is not None:
                families["corridor_worker_lag_messages"].add_metric([row.group], row.lag)


def _stages(kpis: Mapping[str, Any]) -> Iterator[tuple[str, str, float]]:
    """`dwell_h.stages` ({direction: {stage: hours}}) when the snapshot has it (docs/kpis.md)."""
    dwell = kpis.get("dwell_h")
    stages = dwell.get("stages") if isinstance(dwell, Mapping) else None
    if not isinstance(stages, Mapping):
        return
    for direction, hours_by_stage in sorted(stages.items()):
        if not isinstance(hours_by_stage, Mapping):
            continue
        for stage, hours in sorted(hours_by_stage.items()):
            if isinstance(hours, int | float) and not isinstance(hours, bool):
                yield direction, stage, float(hours)

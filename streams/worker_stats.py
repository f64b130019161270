"""What a worker did since it started: counts and wall time by phase, for logs and benchmarks."""

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from streams.broker_watch import BrokerLoss


@dataclass(slots=True)
class WorkerStats:
    """What the worker did since it started (not persisted; the store has the outputs)."""

    rebuilt: int = 0
    consumed: int = 0
    archived: int = 0
    advances: int = 0
    snapshots: int = 0
    batches: int = 0
    dead_letters: Counter[str] = field(default_factory=Counter)
    broker_losses: list[BrokerLoss] = field(default_factory=list)
    seconds: Mapping[str, float] = field(default_factory=dict)
    """Wall time by phase (`streams.phase_timer.PHASES`): where a catch-up goes."""

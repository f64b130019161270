"""Reading `/metrics` as Prometheus does: with `prometheus_client`'s own parser, never by
matching text, so label order and number formatting are the exposition format's business.
"""

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

Labels = frozenset[tuple[str, str]]


def parse(text: str) -> list[Sample]:
    """Every sample of an exposition (raises ValueError when the text does not parse)."""
    return [sample for family in text_string_to_metric_families(text) for sample in family.samples]


def samples(text: str, name: str) -> dict[Labels, float]:
    """The samples called `name` (a counter's with its `_total`), by their label set."""
    return {frozenset(s.labels.items()): s.value for s in parse(text) if s.name == name}


def by(text: str, name: str, label: str) -> dict[str, float]:
    """The samples called `name` by the value of one label (for one-label families)."""
    return {dict(labels)[label]: value for labels, value in samples(text, name).items()}


def value(text: str, name: str, **labels: str) -> float:
    """The one sample called `name` with exactly these labels (KeyError when absent)."""
    return samples(text, name)[frozenset(labels.items())]

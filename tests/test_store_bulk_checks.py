"""Old boxes checked in one call give what the model gives box by box, and a bad box is still
refused by name (`api.store.bulk_checks`, used by the store's commit)."""

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.store.sql_store import _BOXES, _box_row

T0 = datetime(2026, 3, 1, 8, tzinfo=UTC)


def random_box(rng: random.Random, serial: int, *, vary: bool = True) -> dict[str, Any]:
    """An old box as the worker sends it, with (`vary`) the variations the model accepts."""
    box: dict[str, Any] = {
        "yard": rng.choice(["yuzui", "tuanjiecun", "guoyuan"]),
        "container_id": f"TGHU{serial:07d}",
        "direction": rng.choice(["import", "export"]),
        "reefer": rng.random() < 0.3,
        "teu": rng.choice([1, 2]),
        "entered": T0 - timedelta(minutes=rng.randrange(720, 10_000)),
        "as_of": T0,
        "age_h": rng.uniform(12, 200),
        "stage": rng.choice(["waiting_for_pickup", "waiting_for_train", "inspection"]),
        "train_id": rng.choice([None, f"T-{serial}"]),
    }
    variation = rng.randrange(6) if vary else -1
    if variation == 0:
        del box["train_id"]  # the model's default fills it
    elif variation == 1:
        box["teu"] = str(box["teu"])  # coerced, as the model does
    elif variation == 2:
        box["unknown"] = "ignored"
    elif variation == 3:
        box["entered"] = box["entered"].isoformat()  # parsed
    return box


@pytest.mark.parametrize("seed", range(4))
def test_rows_in_one_call_are_the_models_rows(seed: int) -> None:
    rng = random.Random(seed)
    boxes = [random_box(rng, serial) for serial in range(200)]
    assert _BOXES.rows(boxes) == [_box_row(box) for box in boxes]
    plain = [random_box(rng, serial, vary=False) for serial in range(200)]
    assert _BOXES.rows(plain) == [_box_row(box) for box in plain]


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("container_id", "TGHU" + "9" * 20, "container_id"),
        ("reefer", "sometimes", "reefer"),
        ("entered", "yesterday", "entered"),
        ("age_h", None, "age_h"),
    ],
)
def test_a_bad_box_among_good_ones_is_refused_by_name(field: str, value: Any, named: str) -> None:
    rng = random.Random(7)
    boxes = [random_box(rng, serial, vary=False) for serial in range(50)]  # one call checks them
    boxes[31] = {**boxes[31], field: value}
    with pytest.raises(ValueError, match=named) as refused:
        _BOXES.rows(boxes)
    assert repr(boxes[31]["container_id"]) in str(refused.value)


def test_no_boxes_no_rows() -> None:
    assert _BOXES.rows([]) == []

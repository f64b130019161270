"""`decode_event` never raises, whatever it is given; its two paths give one result; the depth
scan measures what a parser would."""

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corridor.contract.event_types import EVENT_TYPES
from corridor.contract.events import (
    MAX_JSON_DEPTH,
    TOO_DEEP,
    DecodeError,
    Event,
    TruckDispatched,
    decode_event,
    encode_event,
)
from corridor.contract.json_depth import nesting_depth, nests_deeper_than
from streams.dead_letters import decode_reason
from tests.test_events import dispatched, events

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)  # beyond int64 both ways
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([1e308, -1e308, 5e-324, 2**64, -(2**63) - 1, 10**30])
    | st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=30,
)
FIELDS = sorted({name for kind in EVENT_TYPES for name in kind.__struct_fields__} | {"type"})


def _as_dict(event: Event) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(encode_event(event))
    return loaded


def _decodes_or_refuses(raw: bytes | str) -> Event | DecodeError:
    result = decode_event(raw)
    assert isinstance(result, DecodeError | Event), result
    return result


@settings(max_examples=300)
@given(
    st.binary(max_size=400)
    | st.text(alphabet='{}[]",:\\ 0123456789.eE-+tfnul"\x00\xff', max_size=400).map(str.encode)
    | st.binary(max_size=200).map(lambda tail: b'{"type":"' + tail)
)
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    _decodes_or_refuses(raw)


@settings(max_examples=300)
@given(json_values)
def test_arbitrary_json_values_never_raise(value: Any) -> None:
    raw = json.dumps(value).encode()
    _decodes_or_refuses(raw)
    _decodes_or_refuses(json.dumps(value, ensure_ascii=False))


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(events, st.sampled_from(FIELDS), json_values, st.booleans())
def test_any_field_of_any_type_with_any_value_never_raises(
    event: Event, field: str, value: Any, type_first: bool
) -> None:
    message = _as_dict(event)
    message[field] = value
    if not type_first:  # the other path of the decoder
        message = {**{k: v for k, v in message.items() if k != "type"}, "type": message["type"]}
    _decodes_or_refuses(json.dumps(message).encode())


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(events, json_values, st.integers(0, 3))
def test_a_box_field_with_any_value_never_raises(event: Event, value: Any, which: int) -> None:
    message = _as_dict(event)
    box = {"container_id": "CSQU3054383", "iso_type": "22G1", "setpoint_c": None}
    box[list(box)[which % 3] if which < 3 else "extra"] = value
    message["boxes"] = [box]
    _decodes_or_refuses(json.dumps(message).encode())


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(events, json_values, st.integers(0, 2))
def test_extra_fields_and_field_order_do_not_change_the_event(
    event: Event, extra: Any, place: int
) -> None:
    """The fast path (type first, no extras) and the slow one give the same event."""
    message = _as_dict(event)
    for box in message.get("boxes", []):
        box["plate"] = extra
    items = list(message.items())
    items.insert([0, 1, len(items)][place], ("x-producer", extra))
    items.append(items.pop(0))  # the type last
    assert decode_event(json.dumps(dict(items)).encode()) == event
    assert decode_event(encode_event(event)) == event


def _nested(depth: int, leaf: Any = 1) -> Any:
    for level in range(depth):
        leaf = [leaf] if level % 2 else {"k": leaf}
    return leaf


@given(json_values, st.integers(0, 3))
def test_the_depth_scan_measures_what_the_parser_would(value: Any, indent: int) -> None:
    def depth(item: Any) -> int:
        children = item.values() if isinstance(item, dict) else item
        if isinstance(item, dict | list):
            return 1 + max((depth(child) for child in children), default=0)
        return 0

    text = json.dumps(value, indent=indent or None).encode()
    assert nesting_depth(text) == depth(value)
    assert nests_deeper_than(text, depth(value)) is False
    assert depth(value) == 0 or nests_deeper_than(text, depth(value) - 1)


@given(events, st.integers(1, 3 * MAX_JSON_DEPTH), st.booleans())
def test_a_message_deeper_than_the_limit_is_refused_as_invalid_depth(
    event: Event, extra_depth: int, type_first: bool
) -> None:
    message = _as_dict(event)
    message["extra"] = _nested(extra_depth, leaf='[{"not": "brackets"}]')
    if not type_first:
        message = {"extra": message.pop("extra"), **message}
    result = decode_event(json.dumps(message).encode())
    if extra_depth + 1 > MAX_JSON_DEPTH:  # the event itself is the first level
        assert isinstance(result, DecodeError)
        assert result.reason.startswith(TOO_DEEP)
        assert decode_reason(result) == "invalid:depth"
    else:
        assert result == event


def test_strings_full_of_brackets_are_not_nesting() -> None:
    raw = dispatched(note="[{" * 1000 + '"\\' + "}]" * 3)
    assert nesting_depth(raw) == 1
    assert isinstance(decode_event(raw), TruckDispatched)

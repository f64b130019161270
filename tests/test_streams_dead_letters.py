"""Dead-letter reasons form a small vocabulary; the letter keeps the original headers."""

import pytest

from corridor.contract.events import DecodeError, decode_event
from streams import dead_letters


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff\xfe", "not_utf8"),
        (b"{", "not_json"),
        (b"[]", "invalid:message"),
        (b"x" * 70_000, "oversized"),
        (
            b'{"type":"train.arrived","event_id":"a","ts":"2026-01-05T08:00:00+08:00",'
            b'"yard":"yuzui","train_id":"T1","boxes":[{"container_id":"CSQU0000002",'
            b'"iso_type":"22G1"}]}',
            "invalid:boxes[].container_id",
        ),
    ],
)
def test_decode_failures_get_a_short_reason(raw: bytes, reason: str) -> None:
    error = decode_event(raw)
    assert isinstance(error, DecodeError)
    assert dead_letters.decode_reason(error) == reason


def test_engine_rejections_name_the_field_and_duplicates_are_their_own_reason() -> None:
    unknown_box = DecodeError("container_id", "reading for a box that is not in the yard")
    duplicate = DecodeError("event_id", "duplicate event_id, ignored")
    assert dead_letters.rejection_reason(unknown_box) == "rejected:container_id"
    assert dead_letters.rejection_reason(duplicate) == "duplicate"


def test_headers_keep_the_originals_and_add_reason_and_origin() -> None:
    letter = dead_letters.dead_letter("not_json", "not JSON: ...", "corridor.trains", 2, 17, b"{")
    headers = dead_letters.letter_headers(letter, [("trace", b"abc"), ("empty", None)])
    assert headers == [
        ("trace", b"abc"),
        ("empty", b""),
        ("corridor.reason", b"not_json"),
        ("corridor.detail", b"not JSON: ..."),
        ("corridor.source.topic", b"corridor.trains"),
        ("corridor.source.partition", b"2"),
        ("corridor.source.offset", b"17"),
    ]

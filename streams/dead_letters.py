"""Dead letters: messages the twin could not apply, kept with their reason and their origin.

A dead letter carries the original bytes (value and key) unchanged, the original headers, and
headers naming why and where from. Reasons are short codes from a small vocabulary, so counting
by reason stays meaningful; the full message naming the field goes beside it as the detail:

- `oversized`: larger than `corridor.contract.events.MAX_EVENT_BYTES`;
- `not_utf8`, `not_json`: not text, or not JSON;
- `invalid:depth`: arrays and objects nested deeper than
  `corridor.contract.json_depth.MAX_JSON_DEPTH` (64), refused before any parser recurses;
- `invalid:<field>`: JSON, but not a valid v1 event (missing or mistyped field, bad container
  check digit, unknown yard, time without offset or outside 2000-2099, NaN temperature...);
  list positions are dropped from the field (`invalid:boxes[].container_id`);
- `duplicate`: an `event_id` already accepted (its first arrival is the one archived);
- `rejected:<field>`: a valid event the twin refused (a reading for a box not in the yard,
  a milestone for a truck never dispatched...).
"""

import re
from collections.abc import Sequence

from corridor.contract.events import NOT_JSON, NOT_UTF8, OVERSIZED, TOO_DEEP, DecodeError
from corridor.store_contract import DeadLetter

REASON = "corridor.reason"
DETAIL = "corridor.detail"
SOURCE_TOPIC = "corridor.source.topic"
SOURCE_PARTITION = "corridor.source.partition"
SOURCE_OFFSET = "corridor.source.offset"
DUPLICATE = "duplicate"

Headers = list[tuple[str, str | bytes | None]]
RawHeaders = Sequence[tuple[str, str | bytes | None]]

_INDEX = re.compile(r"\[\d+\]")


def decode_reason(error: DecodeError) -> str:
    """The reason code of a message `decode_event` refused."""
    if error.reason.startswith(OVERSIZED):
        return "oversized"
    if error.reason.startswith(NOT_UTF8):
        return "not_utf8"
    if error.reason.startswith(NOT_JSON):
        return "not_json"
    if error.reason.startswith(TOO_DEEP):
        return "invalid:depth"
    return f"invalid:{_field(error)}"


def rejection_reason(error: DecodeError) -> str:
    """The reason code of a valid event the twin refused."""
    if error.field == "event_id" and "duplicate" in error.reason:
        return DUPLICATE
    return f"rejected:{_field(error)}"


def _bytes(value: str | bytes | None) -> bytes:
    if value is None:
        return b""
    return value.encode("utf-8") if isinstance(value, str) else value


def _field(error: DecodeError) -> str:
    return _INDEX.sub("[]", error.field) or "message"


def dead_letter(
    reason: str, detail: str, topic: str, partition: int, offset: int, raw: bytes
) -> DeadLetter:
    """A dead letter for the store."""
    return DeadLetter(reason, topic, partition, offset, raw, detail)


def letter_headers(letter: DeadLetter, original: RawHeaders | None) -> Headers:
    """The original headers, then the reason, detail and origin of the letter."""
    headers: Headers = [(name, _bytes(value)) for name, value in original or ()]
    headers += [
        (REASON, letter.reason.encode("utf-8")),
        (DETAIL, letter.detail.encode("utf-8")),
        (SOURCE_TOPIC, letter.source_topic.encode("utf-8")),
        (SOURCE_PARTITION, str(letter.partition).encode("ascii")),
        (SOURCE_OFFSET, str(letter.offset).encode("ascii")),
    ]
    return headers

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
- `duplicate`: an `event_id` already accepted (its first arrival is the one archived): within
  the live twin's window (`streams.live.twin.RETENTION`) from its memory, for an event older
  than that from the store's archive;
- `rejected:<field>`: a valid event the twin refused (a reading for a box not in the yard,
  a milestone for a truck never dispatched...), and `rejected:ts_future`, a valid event stamped
  too far ahead of the wall clock (`streams.input_checks`);
- `internal:<ExceptionName>`: handling this one message raised (a bug, or input no check
  foresaw, such as JSON nested thousands deep); the worker goes on with the next.

A copy on the dead-letter topic never exceeds the producer's limit (`copy_for_topic`): when the
original would not fit, the copy carries no value and a reference to the original bytes,
which the store's dead-letter table keeps whole.
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
RAW_IN_STORE = "corridor.raw.stored"
RAW_BYTES = "corridor.raw.bytes"
DUPLICATE = "duplicate"
MAX_DETAIL_CHARS = 1000  # a detail header is an explanation, not a dump
RECORD_OVERHEAD_BYTES = 4096  # a record's and its batch's framing, beside key, value and headers

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


def internal_reason(error: BaseException) -> str:
    """The reason code of a message whose handling raised `error`."""
    return f"internal:{type(error).__name__}"


def internal_detail(error: BaseException) -> str:
    """The exception's own message, cut to `MAX_DETAIL_CHARS`."""
    return f"{type(error).__name__}: {error}"[:MAX_DETAIL_CHARS]


def rejection_reason(error: DecodeError) -> str:
    """The reason code of a valid event the twin refused."""
    if error.field == "event_id" and "duplicate" in error.reason:
        return DUPLICATE
    return f"rejected:{_field(error)}"


def refusal_reason(error: DecodeError | Exception) -> tuple[str, str]:
    """Reason and detail of a released event the engine refused, or whose application raised."""
    if isinstance(error, DecodeError):
        return rejection_reason(error), str(error)
    return internal_reason(error), internal_detail(error)


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
        (DETAIL, letter.detail[:MAX_DETAIL_CHARS].encode("utf-8", "replace")),
        (SOURCE_TOPIC, letter.source_topic.encode("utf-8")),
        (SOURCE_PARTITION, str(letter.partition).encode("ascii")),
        (SOURCE_OFFSET, str(letter.offset).encode("ascii")),
    ]
    return headers


def copy_for_topic(
    letter: DeadLetter, key: bytes | None, original: RawHeaders | None, limit: int
) -> tuple[bytes, bytes | None, Headers]:
    """Value, key and headers of the letter's copy on the topic, within `limit` bytes.

    The original value, key and headers when they fit; else no value and a reference to the
    store's copy (`RAW_IN_STORE`: its origin, the dead-letter table's key, and `RAW_BYTES`),
    dropping the original headers and then the key if they alone are too large.
    """
    budget = limit - RECORD_OVERHEAD_BYTES
    headers = letter_headers(letter, original)
    if _size(letter.raw, key, headers) <= budget:
        return letter.raw, key, headers
    reference: Headers = [
        (RAW_IN_STORE, f"dead_letters/{_origin(letter)}".encode()),
        (RAW_BYTES, str(len(letter.raw)).encode("ascii")),
    ]
    headers += reference
    if _size(b"", key, headers) > budget:
        headers = letter_headers(letter, None) + reference
    if _size(b"", key, headers) > budget:
        key = None
    return b"", key, headers


def _origin(letter: DeadLetter) -> str:
    return f"{letter.source_topic}/{letter.partition}/{letter.offset}"


def _size(value: bytes, key: bytes | None, headers: Headers) -> int:
    named = sum(len(_bytes(name)) + len(_bytes(content)) for name, content in headers)
    return len(value) + len(key or b"") + named

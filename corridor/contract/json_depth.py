"""How deep a JSON text nests, measured on its bytes before any parser recurses into it.

JSON parsers (msgspec, the standard library) recurse once per level of `[` or `{`; a message
nested a few thousand deep (two bytes a level) exhausts Python's recursion limit and raises
`RecursionError` from inside the parser, or on a small thread stack crashes the process. The
contract allows `MAX_JSON_DEPTH` levels, far more than any v1 event or DCSA record uses (an
event nests at most three: the event, its `boxes` list, a box).

The scan counts brackets outside strings: it drops the strings with one regular expression,
keeps only the brackets and follows the running depth (numpy), in C and in linear time: about
60 us for 10 KB. A text with no more opening brackets than the limit cannot be too deep, so
most texts cost two byte counts. `decode_event` needs the scan only off its fast path.
"""

import re

import numpy as np

MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects accepted in a message (the message itself is 1)."""

# A JSON string: a quote, then characters other than quote or backslash, or escapes, then the
# closing quote. An unterminated string runs to the end, and the quantifiers never give back
# (possessive), so no text makes the scan slower than linear.
_STRING = re.compile(rb'"[^"\\]*+(?:\\.?[^"\\]*+)*+"?', re.DOTALL)
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))
_AS_SQUARE = bytes.maketrans(b"{}", b"[]")
_AS_STEPS = bytes.maketrans(b"[]", b"\x01\xff")  # +1 and -1 as signed bytes
_BLOCK = 1 << 20


def nesting_depth(raw: bytes) -> int:
    """The deepest nesting of arrays and objects in a JSON text (0 for a bare value).

    Exact for valid JSON. Invalid JSON gets an estimate (an unterminated string's brackets
    count); whatever it returns, the text is refused by the parser or by the limit.
    """
    return _deepest(_brackets(raw))


def nests_deeper_than(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a JSON text nests deeper than `limit`, decided without parsing it."""
    if raw.count(b"[") + raw.count(b"{") <= limit:  # too few brackets to be too deep
        return False
    brackets = _brackets(raw)
    # the usual attack, one long run of openings, is found without following the depth
    return b"[" * (limit + 1) in brackets or _deepest(brackets) > limit


def _brackets(raw: bytes) -> bytes:
    """The brackets outside strings, every `{` as `[` and every `}` as `]`."""
    return _STRING.sub(b"", raw).translate(_AS_SQUARE, _NOT_BRACKETS)


def _deepest(brackets: bytes) -> int:
    """The highest running depth, a block at a time so memory stays small for big files."""
    deepest = depth = 0
    for start in range(0, len(brackets), _BLOCK):
        block = brackets[start : start + _BLOCK].translate(_AS_STEPS)
        running = np.frombuffer(block, dtype=np.int8).cumsum(dtype=np.int64) + depth
        deepest, depth = max(deepest, int(running.max())), int(running[-1])
    return deepest

"""ISO 6346 container numbers and size-type codes.

A container number is an owner code (3 letters), an equipment category (U, J or Z), a
six-digit serial and a check digit computed from the other ten characters. A size-type code
such as ``45G1`` or ``22R1`` gives the length (first character), and the type group
(third character: R = reefer).
"""

import re

_NUMBER = re.compile(r"^[A-Z]{3}[UJZ][0-9]{7}$")
_SIZE_TYPE = re.compile(r"^[0-9A-Z]{2}[A-Z][0-9A-Z]$")
_LETTER_VALUES = dict(
    zip(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        [v for v in range(10, 39) if v % 11 != 0],
        strict=True,
    )
)
_TWENTY_FOOT = "2"


def check_digit(first_ten: str) -> int:
    """The ISO 6346 check digit of an owner code, category and serial."""
    total = 0
    for position, char in enumerate(first_ten):
        value = int(char) if char.isdigit() else _LETTER_VALUES[char]
        total += value << position
    return total % 11 % 10


def container_number_error(number: str) -> str | None:
    """Why `number` is not a valid ISO 6346 container number, or None if it is."""
    if not _NUMBER.match(number):
        return "expected 3 letters, U/J/Z, 6 digits and a check digit (e.g. CSQU3054383)"
    expected = check_digit(number[:10])
    if int(number[10]) != expected:
        return f"check digit is {number[10]}, expected {expected}"
    return None


def with_check_digit(first_ten: str) -> str:
    """Complete a container number with its check digit."""
    return f"{first_ten}{check_digit(first_ten)}"


def size_type_error(code: str) -> str | None:
    """Why `code` is not an ISO 6346 size-type code, or None if it is."""
    if not _SIZE_TYPE.match(code):
        return "expected an ISO 6346 size-type code such as 22G1, 45G1 or 45R1"
    return None


def teu_of(size_type: str) -> int:
    """Twenty-foot equivalent units: 1 for a 20 ft box, 2 for 40 ft and longer."""
    return 1 if size_type[0] == _TWENTY_FOOT else 2


def is_reefer(size_type: str) -> bool:
    """Whether the size-type code names a refrigerated box (type group R)."""
    return size_type[2] == "R"

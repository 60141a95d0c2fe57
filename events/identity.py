"""Norwegian national identity numbers (fødselsnummer) and D-numbers: find them anywhere, mask them.

An 11-digit number DDMMYYIIIKK is taken for an identity number when both mod-11 check digits are valid
and the first six digits look like a birth date: day 01-31 (national identity number) or 41-71 (D-number,
day + 40); month 01-12, or +40 (H-number) or +80 (synthetic test numbers). Digits may be written as one run
or as 6 + 5 with one space, dot or dash between ("010190 12345"). A run of 11 digits inside a longer run of
digits is not one (it is some other number), and neither are digits inside a canonical UUID
(8-4-4-4-12 hex): about one random UUID in 25,000 holds 11 digits that pass the checks, and an event id is
no place for a person's number.

Nothing here returns or logs the number itself: callers get field paths and masked text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

__all__ = ["is_identity_number", "contains_identity_number", "find_in", "mask_text", "mask_bytes", "mask_value"]

W1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
W2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
MASK = "*"
_TEXT = re.compile(r"(?<![0-9])([0-9]{6})[ .\-]?([0-9]{5})(?![0-9])")
_BYTES = re.compile(rb"(?<![0-9])([0-9]{6})[ .\-]?([0-9]{5})(?![0-9])")
# Every digit becomes b"0" and every separator b"-": candidates are then found at C speed, and only
# there is the regex tried.
_DIGITS_TO_ZERO = bytes(48 if 48 <= b <= 57 else 45 if b in b" .-" else b for b in range(256))
_CANDIDATES = (b"0" * 11, b"000000-00000")
_UUID = re.compile(rb"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _check_digit(digits: str, weights: tuple[int, ...]) -> int | None:
    rest = 11 - sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
    if rest == 11:
        return 0
    return None if rest == 10 else rest


def _plausible_date(digits: str) -> bool:
    day, month = int(digits[0:2]), int(digits[2:4])
    day_ok = 1 <= day <= 31 or 41 <= day <= 71
    month_ok = any(1 <= month - offset <= 12 for offset in (0, 40, 80))
    return day_ok and month_ok


def is_identity_number(digits: str) -> bool:
    """True when `digits` (exactly 11 digits) is a national identity number or D-number."""
    if len(digits) != 11 or not digits.isascii() or not digits.isdigit() or not _plausible_date(digits):
        return False
    k1 = _check_digit(digits[:9], W1)
    if k1 is None or k1 != int(digits[9]):
        return False
    k2 = _check_digit(digits[:10], W2)
    return k2 is not None and k2 == int(digits[10])


def contains_identity_number(text: str | bytes) -> bool:
    """True when the text holds an identity number anywhere (alone or inside other text)."""
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    zeros = raw.translate(_DIGITS_TO_ZERO)
    # The common case (no candidate at all) is decided at C speed by the two searches.
    return _found_at(raw, zeros, _CANDIDATES[0]) or _found_at(raw, zeros, _CANDIDATES[1])


def _found_at(raw: bytes, zeros: bytes, candidate: bytes) -> bool:
    """Check each place the candidate's shape occurs. A place inside a longer run of digits (a digit just
    before or just after it; in `zeros` every digit is b"0") is no number, and is skipped without the
    regex: case ids such as "sim1763921817-0000001" then cost two byte comparisons."""
    width = len(candidate)
    start = zeros.find(candidate)
    while start != -1:
        end = start + width
        if (start == 0 or zeros[start - 1] != 48) and (end == len(zeros) or zeros[end] != 48):
            match = _BYTES.match(raw, start, start + 14)
            if match and is_identity_number(match.group(1).decode() + match.group(2).decode()) \
                    and not _inside_uuid(raw, match.start(), match.end()):
                return True
        start = zeros.find(candidate, start + 1)
    return False


def _inside_uuid(raw: bytes, start: int, end: int) -> bool:
    window = _UUID.finditer(raw, max(0, start - 36), min(len(raw), end + 36))
    return any(m.start() <= start and end <= m.end() for m in window)


def _scalar_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e12:
        return str(int(value))
    return None


def find_in(value: Any, path: tuple = ()) -> Iterator[tuple]:
    """Yield the path of every key or value (nested in dicts and lists) that holds an identity number.

    A key that holds one is reported as its parent's path plus the marker '<key>' (never the key itself).
    """
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                if contains_identity_number(str(key)):
                    yield (*where, "<key>")
                stack.append((child, (*where, key)))
        elif isinstance(item, list | tuple):
            stack.extend((child, (*where, i)) for i, child in enumerate(item))
        else:
            text = _scalar_text(item)
            if text is not None and contains_identity_number(text):
                yield where


def _mask_match(match: re.Match) -> str:
    found = match.group(1) + match.group(2)
    return MASK * len(match.group(0)) if is_identity_number(found) else match.group(0)


def mask_text(text: str) -> str:
    """The text with every identity number replaced by asterisks of the same length."""
    return _TEXT.sub(_mask_match, text)


def _mask_match_bytes(match: re.Match) -> bytes:
    found = (match.group(1) + match.group(2)).decode("ascii")
    return MASK.encode() * len(match.group(0)) if is_identity_number(found) else match.group(0)


def mask_value(value: Any) -> Any:
    """A copy of a JSON value with identity numbers masked in every key and string (numbers become text)."""
    if isinstance(value, dict):
        return {mask_text(str(k)): mask_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(v) for v in value]
    text = _scalar_text(value)
    if text is not None and contains_identity_number(text):
        return mask_text(text)
    return value


def _mask_all_digits(raw: bytes) -> bytes:
    return bytes(42 if 48 <= b <= 57 else b for b in raw)


_EXPONENT = re.compile(rb"\d[eE][+-]?\d")


def mask_bytes(raw: bytes) -> bytes:
    """The bytes with identity numbers masked, for dead-lettering.

    Digits written plainly are masked in place (same length, so the rest is byte-for-byte the original).
    When the bytes are JSON that still hides a number after that (as \\u0031 escapes, or as a number in
    exponent form such as 3.1129910065e10), the JSON is re-written with the number masked instead.
    """
    masked = _BYTES.sub(_mask_match_bytes, raw)
    if contains_identity_number(masked):  # cannot happen by construction; never keep a number if it does
        masked = _mask_all_digits(masked)
    if b"\\u" not in masked and not _EXPONENT.search(masked):
        return masked
    import json

    try:
        parsed = json.loads(masked)
    except ValueError:
        return masked
    if next(find_in(parsed), None) is None:
        return masked
    return json.dumps(mask_value(parsed), ensure_ascii=False).encode()

"""National identity numbers and D-numbers: found anywhere, never echoed, masked for dead letters."""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events import identity
from events.identity import contains_identity_number, is_identity_number
from events.validation import check
from tests.unit.events.examples import INVALID_CHECK, SYNTHETIC, VALID_DNR, VALID_FNR, event

pytestmark = pytest.mark.unit


def _with_check_digits(nine: str) -> str | None:
    from events.identity import W1, W2, _check_digit

    k1 = _check_digit(nine, W1)
    k2 = None if k1 is None else _check_digit(nine + str(k1), W2)
    return None if k2 is None else f"{nine}{k1}{k2}"


def test_known_valid_numbers_are_recognised():
    for number in (VALID_FNR, VALID_DNR, SYNTHETIC):
        assert identity.is_identity_number(number), number


def test_check_digits_are_computed_by_mod_11():
    assert _with_check_digits("311299456") == VALID_FNR
    assert _with_check_digits("410190123") == VALID_DNR


def test_a_wrong_check_digit_is_not_an_identity_number():
    assert not identity.is_identity_number(INVALID_CHECK)
    assert not identity.contains_identity_number(f"ref {INVALID_CHECK}")


def test_every_single_digit_change_of_the_second_check_digit_is_rejected():
    for digit in "0123456789":
        candidate = VALID_FNR[:10] + digit
        assert identity.is_identity_number(candidate) == (candidate == VALID_FNR)


def test_a_d_number_is_day_plus_40():
    assert int(VALID_DNR[:2]) > 40
    assert identity.is_identity_number(VALID_DNR)
    impossible_day = _with_check_digits("320190123") or _with_check_digits("320190124")
    assert impossible_day is None or not identity.is_identity_number(impossible_day)


@pytest.mark.parametrize("text", [
    VALID_FNR, f"fnr:{VALID_FNR}", f"the person {VALID_FNR} called", f"x{VALID_FNR}y",
    f"{VALID_FNR[:6]} {VALID_FNR[6:]}", f"{VALID_FNR[:6]}-{VALID_FNR[6:]}", f"{VALID_FNR[:6]}.{VALID_FNR[6:]}",
    f"D-nummer {VALID_DNR}", f"line1\n{VALID_FNR}\nline3",
])
def test_numbers_embedded_in_text_are_found(text):
    assert identity.contains_identity_number(text)


@pytest.mark.parametrize("text", [
    "", "no digits", f"1{VALID_FNR}", f"{VALID_FNR}0", "1804", "2026-11-23T10:00:00+01:00", "12345678901234567890",
    "a91d930d-56dd-4872-8fad-04498561182d",  # a UUID whose last group holds 11 digits with valid checks
])
def test_other_numbers_are_not_taken_for_identity_numbers(text):
    assert not identity.contains_identity_number(text)


def test_find_in_reports_paths_of_keys_values_and_numbers_never_the_number():
    value = {"a": {"b": [1, {"c": f"note {VALID_FNR}"}]}, VALID_DNR: "x", "n": int(VALID_FNR)}
    paths = sorted(map(str, identity.find_in(value)))
    assert paths == sorted(map(str, [("a", "b", 1, "c"), ("<key>",), ("n",)]))


@pytest.mark.parametrize("where", ["payload_value", "envelope_key", "nested_key", "int_value", "split", "array"])
def test_an_event_holding_a_number_anywhere_is_rejected_without_echoing_it(where):
    bad = event("case.opened")
    if where == "payload_value":
        bad["payload"]["person_ref"] = f"psn-{VALID_FNR}"
    elif where == "envelope_key":
        bad[VALID_FNR] = "x"
    elif where == "nested_key":
        bad["payload"]["priority_markers"][VALID_DNR] = True
    elif where == "int_value":
        bad["payload"]["can_travel"] = int(VALID_FNR)
    elif where == "split":
        bad["producing_system"] = f"{VALID_FNR[:6]} {VALID_FNR[6:]}"
    else:
        bad["payload"]["services"] = ["guidance", f"id {VALID_FNR}"]
    verdict = check(bad)
    assert not verdict.ok
    assert any("national identity number" in p.message for p in verdict.problems)
    text = json.dumps([p.as_dict() for p in verdict.problems])
    assert VALID_FNR not in text and VALID_DNR not in text and VALID_FNR[6:] not in text


def test_masking_keeps_length_and_everything_else():
    raw = f'{{"note": "fnr {VALID_FNR} ok", "n": {VALID_DNR}, "other": "{INVALID_CHECK}"}}'.encode()
    masked = identity.mask_bytes(raw)
    assert len(masked) == len(raw)
    assert VALID_FNR.encode() not in masked and VALID_DNR.encode() not in masked
    assert INVALID_CHECK.encode() in masked
    assert not identity.contains_identity_number(masked)


def test_masking_finds_numbers_hidden_in_json_escapes():
    hidden = "".join(f"\\u00{ord(c):x}" for c in VALID_FNR)
    raw = f'{{"note": "{hidden}"}}'.encode()
    masked = identity.mask_bytes(raw)
    assert not list(identity.find_in(json.loads(masked)))


def test_mask_text_and_mask_value():
    assert VALID_FNR not in identity.mask_text(f"a {VALID_FNR} b")
    masked = identity.mask_value({VALID_FNR: [f"x{VALID_DNR}", 3]})
    assert list(identity.find_in(masked)) == []


def _reference(text: str) -> bool:
    """The rule written plainly: at every position, 6 digits, an optional separator, 5 digits, with no digit
    just before or after; valid check digits and birth date; not inside a canonical UUID."""
    import re

    uuids = [m.span() for m in re.finditer(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                                           r"[0-9a-fA-F]{12}", text)]
    for start in range(len(text)):
        m = re.compile(r"(?<![0-9])([0-9]{6})[ .\-]?([0-9]{5})(?![0-9])").match(text, start)
        if m and is_identity_number(m.group(1) + m.group(2)) and \
                not any(a <= m.start() and m.end() <= b for a, b in uuids):
            return True
    return False


PIECES = st.sampled_from([VALID_FNR, VALID_DNR, SYNTHETIC, INVALID_CHECK, VALID_FNR[:6] + " " + VALID_FNR[6:],
                          VALID_FNR[:6] + "-" + VALID_FNR[6:], "0", "7", "-", ".", " ", "sim1763921817-0000001",
                          "2026-11-23T10:00:00+01:00", "a1b2", '"', "67.12345678901", str(uuid.uuid4())])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(PIECES, st.text(alphabet="0123456789 .-abcdef", max_size=14)), max_size=8).map("".join))
def test_the_quick_scan_finds_exactly_what_the_rule_says(text):
    assert contains_identity_number(text) == _reference(text)
    assert contains_identity_number(text.encode()) == _reference(text)


def test_mask_bytes_masks_a_number_written_in_exponent_form():
    from events.identity import mask_bytes

    raw = b'{"payload": {"note": 3.1129910065e10, "n": 2.5e3}}'  # 31129910065 has valid check digits
    masked = mask_bytes(raw)
    assert b"3.1129910065e10" not in masked and b"31129910065" not in masked and b"2500" in masked

"""Operators see counts and reasons, not personal data."""

from __future__ import annotations

import json

import pytest

from events import identity
from events.problems import Problem
from services.operators.deadletters import from_record
from services.operators.masking import MASK, Masker, mask_event, mask_text, render_value
from services.operators.queue import mask_letter
from streams.stages import Handled, Origin, Outcome, dead_letter
from tests.unit.streams import factory

pytestmark = pytest.mark.unit


def test_person_references_case_ids_and_coordinates_are_masked_and_the_rest_kept():
    event = factory.opened("case-77", where={"lat": 67.2834, "lon": 14.4051})
    event["payload"]["locations"].append({"kind": "work", "municipality_number": "1804"})
    found: set[str] = set()
    masked = mask_event(event, found)
    payload = masked["payload"]
    assert payload["person_ref"] == MASK and payload["case_id"] == MASK and masked["ordering_key"] == MASK
    assert payload["locations"][0]["coordinates"] == {"lat": MASK, "lon": MASK}
    assert payload["locations"][1]["municipality_number"] == "1804"
    assert masked["event_name"] == "case.opened" and payload["services"] == ["guidance"]
    assert {"case-77", "psn-abcdefghjkmn", "67.2834", "14.4051"} <= found
    assert "case-77" in json.dumps(event)  # the original is untouched


def test_values_masked_in_the_event_are_masked_in_its_reasons_too():
    event = factory.opened("case-secret-1")
    masker = Masker(json.dumps(event).encode(), b"case-secret-1")
    text = masker.text("case case-secret-1 of psn-abcdefghjkmn at 67.28, 14.405: KeyError")
    assert "case-secret-1" not in text and "psn-abcdefghjkmn" not in text and "KeyError" in text


def test_a_value_that_is_not_json_is_masked_by_pattern():
    raw = b'{"case_id": "c-1", "person_ref": "psn-zzzzzzzzzz", "coordinates": {"lat": 67.123456, "lon": 14.4'
    encoding, text = Masker(raw, None).value(raw)
    assert encoding == "text"
    for secret in ("c-1", "psn-zzzzzzzzzz", "67.123456"):
        assert secret not in text
    assert '"coordinates"' in text


def test_identity_numbers_are_masked_again_in_free_text():
    number = next(f"010190{n:05d}" for n in range(100_000) if identity.is_identity_number(f"010190{n:05d}"))
    text = mask_text(f"fnr {number} here")
    assert number not in text and text.startswith("fnr ") and text.endswith(" here")


def test_a_dead_letter_in_the_index_has_its_reasons_masked():
    event = factory.opened("case-in-reason")
    out = dead_letter(Handled(Outcome.FAILED, "decide", error="KeyError: 'case-in-reason'"),
                      json.dumps(event).encode(), Origin("cases", 0, 1, b"case-in-reason"), "router", "dlq")
    letter = mask_letter(from_record("dlq", 0, 0, 0, out.key, out.value, list(out.headers)))
    assert "case-in-reason" not in letter.error + letter.reason and "KeyError" in letter.error


def test_problem_texts_are_masked():
    event = factory.opened("case-p")
    out = dead_letter(Handled(Outcome.REJECTED, "validate", problems=(Problem("payload.person_ref",
                      "psn-abcdefghjkmn is not allowed for case-p", "fix it"),)), json.dumps(event).encode(),
                      Origin("cases", 0, 1, b"case-p"), "router", "dlq")
    letter = mask_letter(from_record("dlq", 0, 0, 0, out.key, out.value, list(out.headers)))
    assert letter.problems[0]["message"] == f"{MASK} is not allowed for {MASK}"
    assert letter.problems[0]["path"] == "payload.person_ref"


def test_unmasked_rendering_shows_json_text_or_hex():
    assert render_value(b'{"a": 1}') == ("json", '{\n  "a": 1\n}')
    assert render_value(b"plain") == ("text", "plain")
    assert render_value(b"\xff\x00") == ("hex", "ff 00")
    assert render_value(None) == ("empty", "")


def test_coordinates_given_as_an_array_or_text_are_masked_whatever_the_shape():
    event = factory.opened("case-arr")
    event["payload"]["locations"] = [{"kind": "home", "coordinates": [14.4, 67.28], "municipality_number": "1804"}]
    event["payload"]["base"] = "67.28,14.4"
    event["payload"]["geometry"] = {"type": "Point", "coordinates": [[14.4, 67.28]], "label": "Storgata 1"}
    found: set[str] = set()
    masked = mask_event(event, found)
    payload = masked["payload"]
    assert payload["locations"] == [{"kind": "home", "coordinates": [MASK, MASK], "municipality_number": "1804"}]
    assert payload["base"] == MASK
    assert payload["geometry"] == {"type": "Point", "coordinates": [[MASK, MASK]], "label": MASK}
    assert {"14.4", "67.28", "67.28,14.4"} <= found
    shown = Masker(json.dumps(event).encode(), None).value(json.dumps(event).encode())[1]
    assert "14.4" not in shown and "67.28" not in shown and "Storgata" not in shown


def test_coordinates_as_an_array_in_a_value_that_is_not_json_are_masked():
    raw = b'{"event_name": "case.opened", "coordinates": [14.4, 67.28], "base": [[14.41, 67.2]], "x": [1'
    encoding, text = Masker(raw, None).value(raw)
    assert encoding == "text" and "case.opened" in text
    for secret in ("14.4", "67.28", "14.41", "67.2"):
        assert secret not in text


def valid_fnr() -> str:
    return next(f"010190{n:05d}" for n in range(100_000) if identity.is_identity_number(f"010190{n:05d}"))


def test_identity_numbers_in_string_values_and_keys_are_masked_in_the_masked_view():
    number = valid_fnr()
    event = factory.opened("case-fnr", note=f"called {number} today", notes=[{"text": f"fnr {number}"}],
                           by_number={number: "x"}, ref_text="met psn-abcdefghjkmn")
    masked = mask_event(event)
    shown = json.dumps(masked, ensure_ascii=False)
    assert number not in shown
    assert masked["payload"]["note"].startswith("called ") and masked["payload"]["note"].endswith(" today")
    assert "psn-abcdefghjkmn" not in shown and masked["event_name"] == "case.opened"
    encoding, text = Masker(json.dumps(event).encode(), None).value(json.dumps(event).encode())
    assert encoding == "json" and number not in text


def test_identity_numbers_in_a_value_that_is_not_json_are_masked():
    number = valid_fnr()
    raw = f"not json: fnr {number}, more".encode()
    encoding, text = Masker(raw, None).value(raw)
    assert encoding == "text" and number not in text and text.startswith("not json: fnr ")


def test_event_ids_and_times_are_not_taken_for_coordinates_or_identity_numbers():
    event = factory.opened("case-keep")
    masked = mask_event(event)
    assert masked["event_id"] == event["event_id"] and masked["occurred_at"] == event["occurred_at"]
    assert masked["payload"]["priority_markers"] == event["payload"]["priority_markers"]

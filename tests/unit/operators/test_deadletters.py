"""Reading a dead-letter record and deciding where its replay goes (pure)."""

from __future__ import annotations

import json

import pytest

from events import topics
from events.problems import Problem
from services.intake.deadletters import dead_letter_headers as intake_headers
from services.operators.deadletters import (
    REPLAY_GENERATION,
    REPLAY_OF,
    Ref,
    from_record,
    parse_ref,
    replay_headers,
    replay_target,
)
from services.operators.errors import NotReplayable
from streams.stages import Handled, Origin, Outcome, dead_letter
from tests.unit.streams import factory

pytestmark = pytest.mark.unit


MISSING = (Problem("payload.case_id", "is missing", "add it"),)


def stream_record(value: bytes, outcome=Outcome.REJECTED, problems=MISSING):
    out = dead_letter(Handled(outcome, "validate", problems=problems), value,
                      Origin("cases-topic", 4, 812, b"case-1"), "router", "dlq")
    return from_record("dlq", 2, 17, 1_795_000_000_000, out.key, out.value, list(out.headers))


def test_a_stream_dead_letter_is_read_from_its_headers():
    event = factory.opened("case-1")
    letter = stream_record(json.dumps(event).encode())
    assert (letter.source, letter.stage, letter.outcome) == ("stream:router", "validate", "rejected")
    assert (letter.origin_topic, letter.origin_partition, letter.origin_offset) == ("cases-topic", 4, 812)
    assert letter.problems == ({"path": "payload.case_id", "message": "is missing", "fix": "add it"},)
    assert letter.reason.startswith("payload.case_id: is missing")
    assert (letter.event_name, letter.event_id, letter.ref) == ("case.opened", event["event_id"], Ref("dlq", 2, 17))


def test_a_stream_dead_letter_replays_to_its_origin_topic_with_its_key():
    target = replay_target(stream_record(b"{broken", Outcome.UNPARSEABLE))
    assert (target.topic, target.key) == ("cases-topic", b"case-1")


def test_an_intake_dead_letter_replays_where_the_contract_routes_its_event():
    event = factory.opened("case-9")
    headers = intake_headers([Problem("$", "bad", "fix")], system="modia", endpoint="/v1/events", status=422)
    letter = from_record("dlq", 0, 1, 0, b"modia", json.dumps(event).encode(), headers)
    assert letter.source == "intake" and letter.stage == "intake" and letter.origin_topic is None
    target = replay_target(letter)
    assert (target.topic, target.key) == (topics.CASE_EVENTS, b"case-9")


def test_a_dead_letter_with_no_origin_and_no_event_is_not_replayable():
    headers = intake_headers([Problem("$", "not JSON", "send JSON")], system="modia", endpoint="/v1/events", status=422)
    letter = from_record("dlq", 0, 5, 0, b"modia", b"not json at all", headers)
    with pytest.raises(NotReplayable, match="0:5.*send it again"):
        replay_target(letter)


def test_a_record_without_dead_letter_headers_still_reads():
    letter = from_record("dlq", 1, 2, 0, None, None, [])
    assert (letter.source, letter.reason, letter.size) == ("unknown", "no reason given", 0)


def test_replay_headers_name_the_dead_letter_and_the_depth():
    letter = stream_record(b"{}")
    headers = dict(replay_headers(letter, 2, __import__("datetime").datetime(2026, 11, 23)))
    assert headers[REPLAY_OF] == b"dlq:2:17" and headers[REPLAY_GENERATION] == b"2"


def test_a_dead_letter_of_a_replay_keeps_the_replay_header():
    letter = from_record("dlq", 0, 9, 0, None, b"{}", [(REPLAY_OF, b"dlq:2:17")])
    assert letter.replay_of == "dlq:2:17"


@pytest.mark.parametrize("text", ["12", "a:1", "1:", ":4", "1:2:3"])
def test_a_bad_ref_says_what_an_id_looks_like(text):
    with pytest.raises(ValueError, match="PARTITION:OFFSET"):
        parse_ref(text, "dlq")


def test_a_ref_reads_as_partition_and_offset():
    assert parse_ref(" 2:40 ", "dlq") == Ref("dlq", 2, 40) and str(Ref("dlq", 2, 40)) == "2:40"

"""The HTTP intake's behaviour through its ASGI app (broker and receipts replaced by in-memory fakes)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from events.topics import ROUTES
from services.intake.app import create_app
from services.intake.core import Intake
from services.intake.deadletters import DeadLetters
from services.intake.settings import parse_tokens
from tests.unit.events.examples import VALID_FNR, event
from tests.unit.events.fakes import MemoryReceipts, RecordingPublisher

pytestmark = pytest.mark.unit

MODIA = "modia-token-0123456789abcdef"
ARENA = "arena-token-0123456789abcdef"
LIMIT = 64 * 1024


@pytest.fixture
def world():
    publisher, receipts = RecordingPublisher(), MemoryReceipts()
    intake = Intake(publisher, receipts, DeadLetters(publisher), max_batch=50)
    client = TestClient(create_app(intake, {MODIA: "modia", ARENA: "arena"}, LIMIT), raise_server_exceptions=False)
    client.receipts = receipts
    return client, publisher


def post(client, body, token=MODIA, batch=False):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post("/v1/events/batch" if batch else "/v1/events", content=data,
                       headers={"Authorization": f"Bearer {token}"} if token else {})


def test_one_event_is_accepted_with_202_and_its_id(world):
    client, publisher = world
    sent = event("case.opened")
    response = post(client, sent)
    assert response.status_code == 202
    assert response.json()["accepted"][0]["event_id"] == sent["event_id"]
    assert [m.event_id for m in publisher.sent] == [sent["event_id"]]
    assert publisher.sent[0].key == sent["ordering_key"].encode()


def test_a_batch_is_accepted_in_order(world):
    client, publisher = world
    events = [event("case.opened"), event("appointment.requested"), event("office.status_changed")]
    response = post(client, {"events": events}, batch=True)
    assert response.status_code == 202
    assert [a["event_id"] for a in response.json()["accepted"]] == [e["event_id"] for e in events]
    assert [m.topic for m in publisher.sent] == ["veiviser.case-events.v1", "veiviser.case-events.v1",
                                                 "veiviser.office-status.v1"]


def test_resending_returns_the_first_result_and_publishes_nothing_new(world):
    client, publisher = world
    sent = event("case.closed")
    first = post(client, sent).json()["accepted"][0]
    again = post(client, sent).json()["accepted"][0]
    assert again == {**first, "duplicate": True}
    assert len(publisher.sent) == 1


def test_the_same_event_twice_in_one_batch_is_published_once(world):
    client, publisher = world
    sent = event("case.closed")
    response = post(client, {"events": [sent, sent]}, batch=True)
    assert response.status_code == 202
    assert [a["duplicate"] for a in response.json()["accepted"]] == [False, True]
    assert len(publisher.sent) == 1


def test_reusing_an_event_id_for_other_content_is_rejected(world):
    client, publisher = world
    sent = event("case.closed")
    post(client, sent)
    changed = {**sent, "payload": {**sent["payload"], "reason": "withdrawn"}}
    response = post(client, changed)
    assert response.status_code == 422
    assert response.json()["rejected"][0]["problems"][0]["path"] == "event_id"
    assert len(publisher.sent) == 1


def test_an_invalid_batch_publishes_nothing_and_lists_problems_per_event(world):
    client, publisher = world
    good, bad = event("case.closed"), event("case.closed")
    bad["payload"]["reason"] = "bored"
    response = post(client, {"events": [good, bad]}, batch=True)
    assert response.status_code == 422
    body = response.json()
    assert body["rejected"] == [{"index": 1, "problems": [{"path": "payload.reason", "message": "is not an allowed value",
                                                           "fix": "use one of: resolved, withdrawn, moved_away, transferred, other"}]}]
    assert body["not_published"] == [0]
    assert publisher.sent == []
    assert len(publisher.dead) == 1


def test_a_system_may_only_publish_as_itself(world):
    client, publisher = world
    response = post(client, event("case.closed"), token=ARENA)
    assert response.status_code == 403
    assert response.json()["rejected"][0]["problems"][0]["path"] == "producing_system"
    assert publisher.sent == []


@pytest.mark.parametrize("token", [None, "wrong-token-0123456789abcdef", ""])
def test_without_a_known_token_nothing_is_read(world, token):
    client, publisher = world
    response = post(client, event("case.closed"), token=token)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert publisher.sent == [] and publisher.dead == []


def test_too_large_a_body_is_413_with_the_limit(world):
    client, publisher = world
    response = post(client, b"x" * (LIMIT + 1))
    assert response.status_code == 413
    assert str(LIMIT) in response.json()["error"]


def test_too_large_a_batch_names_the_limit(world):
    client, _ = world
    response = post(client, {"events": [event("case.closed") for _ in range(51)]}, batch=True)
    assert response.status_code == 422
    assert "50" in response.json()["rejected"][0]["problems"][0]["message"]


def test_an_identity_number_is_422_never_echoed_and_dead_lettered_masked(world):
    client, publisher = world
    bad = event("case.opened")
    bad["payload"]["person_ref"] = f"psn-{VALID_FNR}"
    response = post(client, bad)
    assert response.status_code == 422
    assert VALID_FNR not in response.text
    assert publisher.sent == []
    topic, value, key, headers = publisher.dead[0]
    assert topic == "veiviser.dead-letter.v1" and key == b"modia"
    assert VALID_FNR.encode() not in value
    assert value.replace(b"*" * 11, VALID_FNR.encode()) == json.dumps(bad).encode()
    assert b"national identity number" in headers["dlq_reason"]
    assert json.loads(headers["dlq_problems"])[0]["path"] == "payload.person_ref"
    assert headers["dlq_status"] == b"422" and headers["dlq_system"] == b"modia"


def test_garbage_is_dead_lettered_with_its_original_bytes(world):
    client, publisher = world
    response = post(client, b"\x00\xffnot json")
    assert response.status_code == 422
    assert publisher.dead[0][1] == b"\x00\xffnot json"


def test_openapi_document_describes_both_endpoints_and_their_answers(world):
    client, _ = world
    document = client.get("/openapi.json").json()
    for path in ("/v1/events", "/v1/events/batch"):
        post_op = document["paths"][path]["post"]
        assert {"202", "401", "403", "413", "422", "503"} <= set(post_op["responses"])
        body = post_op["requestBody"]["content"]["application/json"]["schema"]
        alternatives = body["oneOf"] if path == "/v1/events" else body["properties"]["events"]["items"]["oneOf"]
        names = {alt["properties"]["event_name"]["const"] for alt in alternatives}
        assert names == set(ROUTES) and "case.opened" in names  # every event of the contract
        assert "$ref" not in json.dumps(alternatives)


def test_tokens_setting_is_parsed_and_checked_without_echoing_tokens():
    assert parse_tokens("modia=" + "a" * 24 + ", arena=" + "b" * 30) == {"a" * 24: "modia", "b" * 30: "arena"}
    with pytest.raises(ValueError, match="shorter than 24") as caught:
        parse_tokens("modia=short-secret")
    assert "short-secret" not in str(caught.value)
    with pytest.raises(ValueError, match="system=token"):
        parse_tokens("justatoken0123456789012345")


def test_missing_tokens_fail_at_start_naming_the_variable(monkeypatch):
    from services.intake.settings import load_intake_settings
    from veiviser.settings import SettingsError

    monkeypatch.delenv("VEIVISER_INTAKE_TOKENS", raising=False)
    with pytest.raises(SettingsError, match="VEIVISER_INTAKE_TOKENS"):
        load_intake_settings()


def test_the_intake_sends_to_the_publishers_topic_names(world):
    client, publisher = world
    publisher.topic_map = {"veiviser.case-events.v1": "private.case-events"}
    response = post(client, event("case.closed"))
    assert response.json()["accepted"][0]["topic"] == "private.case-events"
    assert publisher.sent[0].topic == "private.case-events"


def test_a_database_outage_is_503_with_retry_after_not_500():
    import psycopg2

    class DownReceipts(MemoryReceipts):
        def find(self, event_ids):
            raise psycopg2.OperationalError("connection refused")

    publisher = RecordingPublisher()
    intake = Intake(publisher, DownReceipts(), DeadLetters(publisher))
    client = TestClient(create_app(intake, {MODIA: "modia"}, LIMIT), raise_server_exceptions=False)
    response = post(client, event("case.closed"))
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert "again" in response.json()["error"]
    assert publisher.sent == []


def test_a_number_hidden_in_json_escapes_is_found_and_masked_in_the_dead_letter(world):
    client, publisher = world
    hidden = "".join(f"\\u00{ord(c):x}" for c in VALID_FNR)
    body = json.dumps(event("case.closed"))[:-1] + f', "note": "{hidden}"}}'
    response = post(client, body.encode())
    assert response.status_code == 422
    assert "national identity number" in response.text
    kept = json.loads(publisher.dead[0][1])
    assert VALID_FNR not in json.dumps(kept, ensure_ascii=False)


def test_an_event_another_request_is_publishing_right_now_is_503_not_a_duplicate(world):
    from events.publisher import prepare
    from services.intake.receipts import Receipt, digest

    client, publisher = world
    sent = event("case.closed")
    client.receipts.rows[sent["event_id"]] = Receipt(sent["event_id"], digest(prepare(sent).value), "pending")
    response = post(client, sent)
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    assert publisher.sent == []

"""End to end: a real uvicorn intake, the real broker and database.
HTTP post -> the message on the right topic and partition with the right key and headers; a duplicate post
-> one message; a national identity number anywhere -> 422, nothing published, dead letter masked."""

from __future__ import annotations

import json
import socket
import types
import uuid

import httpx
import pytest

from events import topics
from services.intake.process import IntakeProcess
from tests.integration.events.kafka_read import expected_partition, read_all
from tests.unit.events.examples import VALID_DNR, VALID_FNR, event

pytestmark = pytest.mark.e2e

TOKEN = "e2e-" + uuid.uuid4().hex


@pytest.fixture
def intake(bootstrap_servers, database_url, new_topic):
    topic_map = {topics.CASE_EVENTS: new_topic(partitions=12), topics.OFFICE_STATUS: new_topic(partitions=3),
                 topics.FIELD_SHIFTS: new_topic(partitions=3), topics.VISIT_EVENTS: new_topic(partitions=6),
                 topics.DEAD_LETTER: new_topic(partitions=3)}
    where = types.SimpleNamespace(bootstrap_servers=bootstrap_servers, database_url=database_url)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with IntakeProcess(where, topic_map, {TOKEN: "modia"}, port) as server:
        client = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
        yield client, topic_map
        client.close()


def test_a_posted_event_lands_on_its_topic_partition_with_key_and_headers(intake, bootstrap_servers):
    client, topic_map = intake
    sent = event("appointment.booked")
    response = client.post("/v1/events", content=json.dumps(sent))
    assert response.status_code == 202, response.text
    accepted = response.json()["accepted"][0]
    assert accepted["topic"] == topic_map[topics.CASE_EVENTS]
    [record] = read_all(bootstrap_servers, accepted["topic"], expect=1)
    assert (record.partition, record.offset) == (accepted["partition"], accepted["offset"])
    assert record.key == sent["ordering_key"].encode()
    assert record.partition == expected_partition(record.key, 12)
    assert json.loads(record.value) == sent
    headers = dict(record.headers)
    assert headers["event_id"] == sent["event_id"].encode()
    assert headers["event_name"] == b"appointment.booked"
    assert headers["producing_system"] == b"modia"
    assert headers["content_type"] == b"application/json"


def test_a_duplicate_post_publishes_one_message(intake, bootstrap_servers):
    client, topic_map = intake
    sent = event("office.status_changed")
    first = client.post("/v1/events", content=json.dumps(sent))
    second = client.post("/v1/events/batch", content=json.dumps({"events": [sent]}))
    assert first.status_code == second.status_code == 202
    assert second.json()["accepted"][0] == {**first.json()["accepted"][0], "duplicate": True}
    records = read_all(bootstrap_servers, topic_map[topics.OFFICE_STATUS])
    assert [dict(r.headers)["event_id"] for r in records] == [sent["event_id"].encode()]


@pytest.mark.parametrize("where", ["payload", "key", "envelope", "batch"])
def test_an_identity_number_anywhere_is_422_and_nothing_is_published(intake, bootstrap_servers, where):
    client, topic_map = intake
    good, bad = event("case.closed"), event("case.closed")
    if where == "payload":
        bad["payload"]["reason"] = f"fnr {VALID_FNR}"
    elif where == "key":
        bad["payload"][VALID_DNR] = "x"
    else:
        bad["correlation_id"] = f"{VALID_FNR[:6]} {VALID_FNR[6:]}"
    if where == "batch":
        response = client.post("/v1/events/batch", content=json.dumps({"events": [good, bad]}))
    else:
        response = client.post("/v1/events", content=json.dumps(bad))
    assert response.status_code == 422
    assert VALID_FNR not in response.text and VALID_DNR not in response.text
    assert any("identity number" in p["message"] for item in response.json()["rejected"] for p in item["problems"])
    for name in (topics.CASE_EVENTS, topics.OFFICE_STATUS, topics.VISIT_EVENTS):
        assert read_all(bootstrap_servers, topic_map[name], timeout_s=3) == []
    [dead] = read_all(bootstrap_servers, topic_map[topics.DEAD_LETTER], expect=1)
    assert VALID_FNR.encode() not in dead.value and VALID_DNR.encode() not in dead.value
    assert VALID_FNR[6:].encode() not in dead.value
    headers = dict(dead.headers)
    assert headers["dlq_status"] == b"422" and headers["dlq_system"] == b"modia"
    assert b"national identity number" in headers["dlq_reason"]


def test_bad_token_and_impersonation_publish_nothing(intake, bootstrap_servers):
    client, topic_map = intake
    sent = event("case.closed", producing_system="arena")
    assert client.post("/v1/events", content=json.dumps(sent)).status_code == 403
    anonymous = httpx.post(f"{client.base_url}/v1/events", content=json.dumps(event("case.closed")))
    assert anonymous.status_code == 401
    assert read_all(bootstrap_servers, topic_map[topics.CASE_EVENTS], timeout_s=3) == []


def test_a_claim_left_by_a_crashed_request_is_taken_over_and_published_once(intake, bootstrap_servers,
                                                                             database_url):
    import psycopg2

    from events.publisher import prepare
    from services.intake.receipts import digest

    client, topic_map = intake
    sent = event("case.closed")
    conn = psycopg2.connect(database_url)
    with conn, conn.cursor() as cur:  # what a request that died after claiming leaves behind
        cur.execute("INSERT INTO intake_receipts (event_id, producing_system, body_sha256, status, claimed_at) "
                    "VALUES (%s, 'modia', %s, 'pending', now() - interval '2 minutes')",
                    (sent["event_id"], digest(prepare(sent).value)))
    conn.close()
    response = client.post("/v1/events", content=json.dumps(sent))
    assert response.status_code == 202, response.text
    assert response.json()["accepted"][0]["duplicate"] is False
    assert client.post("/v1/events", content=json.dumps(sent)).json()["accepted"][0]["duplicate"] is True
    records = read_all(bootstrap_servers, topic_map[topics.CASE_EVENTS], timeout_s=5)
    assert [dict(r.headers)["event_id"] for r in records] == [sent["event_id"].encode()]

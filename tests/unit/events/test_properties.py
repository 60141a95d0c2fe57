"""Property tests: malformed and hostile input at the validation, the library and the intake.
Never a crash, never a 500; every rejection is accounted for with a reason; the fast path never accepts
what the schema rejects."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from events import contract
from events.publisher import Accepted, Publisher, Rejected
from events.validation import check
from services.intake.app import create_app
from services.intake.core import Intake
from services.intake.deadletters import DeadLetters
from tests.unit.events.examples import VALID_FNR
from tests.unit.events.fakes import MemoryReceipts, RecordingPublisher
from tests.unit.events.strategies import json_values, mutated_events

pytestmark = pytest.mark.unit

TOKEN = "modia-token-0123456789abcdef"


def _schema_valid(value: dict) -> bool:
    name = value.get("event_name")
    if name not in contract.event_names() or value.get("schema_version") != 1:
        return False
    return not list(contract.validator(name).iter_errors(value))


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_any_json_value_gets_a_verdict_with_reasons(value):
    verdict = check(value)
    assert verdict.ok or verdict.problems
    for problem in verdict.problems:
        assert problem.path and problem.message and problem.fix
    assert VALID_FNR not in json.dumps([p.as_dict() for p in verdict.problems])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_get_a_verdict(raw):
    verdict = check(raw)
    assert verdict.ok or verdict.problems


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_events())
def test_accepted_events_are_always_schema_valid(value):
    verdict = check(value)
    if verdict.ok:
        assert _schema_valid(json.loads(verdict.value))
    else:
        assert all(p.fix for p in verdict.problems)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(json_values, mutated_events(), st.binary(max_size=50)), max_size=8))
def test_the_library_returns_one_typed_result_per_event(events):
    fake = RecordingPublisher()
    producer = _FakeProducer(fake)
    results = Publisher("unused:9092", producer=producer).publish_batch(events)
    assert len(results) == len(events)
    for result in results:
        assert isinstance(result, Accepted | Rejected)
        if isinstance(result, Rejected):
            assert result.problems and result.reason
    assert producer.count == sum(isinstance(r, Accepted) for r in results)


class _FakeProducer:
    """Just enough of KafkaProducer for the library's unit properties."""

    def __init__(self, recorder):
        self.count = 0

    def send(self, topic, value, key, headers, partition=None):
        self.count += 1
        return _Future(topic, self.count)

    def partitions_for(self, topic):
        return {0, 1, 2}

    def flush(self, timeout=None):
        pass


class _Future:
    def __init__(self, topic, offset):
        self.topic, self.offset, self.is_done = topic, offset, True

    def get(self, timeout=None):
        from types import SimpleNamespace

        return SimpleNamespace(topic=self.topic, partition=0, offset=self.offset)


def _intake_client():
    publisher = RecordingPublisher()
    intake = Intake(publisher, MemoryReceipts(), DeadLetters(publisher), max_batch=20)
    return TestClient(create_app(intake, {TOKEN: "modia"}, 32 * 1024), raise_server_exceptions=False), publisher


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.one_of(st.binary(max_size=300), json_values.map(lambda v: json.dumps(v).encode()),
                      mutated_events().map(lambda v: json.dumps(v).encode())),
       batch=st.booleans())
def test_the_intake_never_answers_500_and_keeps_every_rejection(body, batch):
    client, publisher = _intake_client()
    response = client.post("/v1/events/batch" if batch else "/v1/events", content=body,
                           headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code in (202, 403, 422)
    if response.status_code == 202:
        assert publisher.dead == []
        assert len(publisher.sent) >= 1
    else:
        assert publisher.sent == []
        assert len(publisher.dead) == 1
        rejected = response.json()["rejected"]
        assert rejected and all(item["problems"] for item in rejected)
        assert VALID_FNR.encode() not in publisher.dead[0][1]
        assert VALID_FNR not in response.text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutated_events(), min_size=1, max_size=5))
def test_intake_batches_of_mutated_events_are_all_or_nothing(events):
    try:
        body = json.dumps({"events": events}, allow_nan=False).encode()
    except ValueError:  # NaN/Infinity are not JSON; the garbage tests cover such bodies
        assume(False)
    client, publisher = _intake_client()
    response = client.post("/v1/events/batch", content=body,
                           headers={"Authorization": f"Bearer {TOKEN}"})
    valid = [check(e).ok and e.get("producing_system") == "modia" for e in events]
    if all(valid):
        assert response.status_code == 202
    else:
        assert response.status_code in (403, 422)
        assert {item["index"] for item in response.json()["rejected"]} >= {i for i, ok in enumerate(valid) if not ok}
        assert publisher.sent == []

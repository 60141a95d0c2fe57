"""The intake keeps a rejected body whole on the dead-letter topic, even the largest body it accepts."""

from __future__ import annotations

import json

import pytest
from kafka import KafkaConsumer

from events.simulator import Simulator, SimulatorConfig
from services.intake.settings import IntakeSettings

pytestmark = pytest.mark.integration


def test_the_largest_accepted_rejected_batch_fits_on_the_dead_letter_topic(bootstrap_servers, database_url,
                                                                          new_topic):
    from events.publisher import Publisher
    from services.intake.core import Intake
    from services.intake.deadletters import DeadLetters
    from services.intake.receipts import Receipts

    limit = IntakeSettings(intake_tokens="office-sim=" + "t" * 32).intake_max_body_bytes
    events = list(Simulator(SimulatorConfig(seed=9)).events(4000))
    body, batch = b"", []
    for event in events:  # as many events as fit the limit, every one of them invalid
        candidate = json.dumps({"events": [*batch, {**event, "schema_version": 99}]}).encode()
        if len(candidate) > limit:
            break
        body, batch = candidate, [*batch, {**event, "schema_version": 99}]
    assert len(body) > 0.9 * limit
    dead = new_topic(1)
    receipts = Receipts(database_url)
    with Publisher(bootstrap_servers) as publisher:
        intake = Intake(publisher, receipts, DeadLetters(publisher, dead), max_batch=len(batch))
        outcome = intake.submit("office-sim", body, True, "/v1/events/batch")
    receipts.close()
    assert outcome.status == 422
    consumer = KafkaConsumer(dead, bootstrap_servers=bootstrap_servers, auto_offset_reset="earliest",
                             consumer_timeout_ms=5000)
    [kept] = list(consumer)
    consumer.close()
    assert kept.value == body

"""The office-status agent: bad status messages are dead-lettered, other offices and kinds skipped."""

from __future__ import annotations

import asyncio
import json

import pytest

from geo.offices import load_registry
from streams.delivery import Message
from streams.retry import Backoff
from streams.stages import Origin
from streams.statuscheck import StatusCheckAgent
from tests.unit.streams import factory

pytestmark = pytest.mark.unit


def run(values):
    sent = []

    async def send(outputs):
        sent.extend(outputs)

    agent = StatusCheckAgent(load_registry(), send, dead_letter_topic="dead", backoff=Backoff(0.01, 0.01))
    batch = [Message(v if isinstance(v, bytes) else json.dumps(v).encode(), Origin("offices", 0, i, b"k"))
             for i, v in enumerate(values)]
    return asyncio.run(agent.process(batch)), sent


def test_good_status_changes_pass_and_bad_ones_are_dead_lettered_with_their_origin():
    broken = factory.office("1804", "open")
    broken["payload"]["staff_on_duty"] = -1
    summary, sent = run([factory.office("1804", "open"), b"\xff not json", broken])
    assert summary.outcomes == {"ok": 1, "unparseable": 1, "rejected": 1}
    assert [dict(o.headers)["dlq_origin_offset"] for o in sent] == [b"1", b"2"]
    assert all(o.topic == "dead" and dict(o.headers)["dlq_source"] == b"stream:office-status" for o in sent)
    assert b"staff_on_duty" in dict(sent[1].headers)["dlq_reason"]


def test_offices_without_a_service_point_and_other_events_are_skipped():
    summary, sent = run([factory.office("9999", "open"), factory.opened("case-1")])
    assert summary.outcomes == {"skipped": 2} and sent == []

"""The router agent's batch work against the real database (outputs captured instead of sent)."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import replace

import pytest

from geo.offices import OfficeBoard, load_registry
from geo.routing import default_router
from streams.capacity import booking_changes
from streams.errors import TransientError
from streams.ledger import Decided, Ledger
from streams.retry import Backoff
from streams.router import Message, RouterAgent, decider
from streams.routing import status_events
from streams.stages import Origin
from tests.unit.streams import factory

pytestmark = pytest.mark.integration


class Flaky(Ledger):
    """The real ledger, whose first `failures` calls find the database away."""

    def __init__(self, *args, failures: int = 0, **kw):
        super().__init__(*args, **kw)
        self.failures = failures

    def record(self, batch):
        if self.failures:
            self.failures -= 1
            raise TransientError("database briefly away")
        return super().record(batch)


def make_agent(database_url, board=None, failures=0):
    sent = []

    async def send(outputs):
        sent.extend(outputs)

    router = default_router()
    ledger = Flaky(database_url, f"test-{uuid.uuid4().hex[:8]}", decider(router, lambda: board),
                   changes=lambda before, event: booking_changes(before, event, router.registry), failures=failures)
    agent = RouterAgent(ledger, send, followups_topic="follow", dead_letter_topic="dead",
                        backoff=Backoff(first_s=0.01, max_s=0.02))
    return agent, sent


def messages(values):
    return [Message(v if isinstance(v, bytes) else json.dumps(v).encode(), Origin("cases", 1, 10 + i, b"k"))
            for i, v in enumerate(values)]


def test_a_batch_routes_dead_letters_and_skips(database_url):
    agent, sent = make_agent(database_url)
    a = factory.case_id()
    batch = messages([factory.opened(a), b"{broken", {"event_name": "case.opened"}, factory.office("1804", "open"),
                      factory.requested(a)])
    summary = asyncio.run(agent.process(batch))
    assert summary.outcomes == {"ok": 2, "unparseable": 1, "rejected": 1, "skipped": 1}
    dead = [o for o in sent if o.topic == "dead"]
    assert [dict(o.headers)["dlq_outcome"] for o in dead] == [b"unparseable", b"rejected"]
    assert [dict(o.headers)["dlq_origin_offset"] for o in dead] == [b"11", b"12"]
    follow = [json.loads(o.value) for o in sent if o.topic == "follow"]
    assert [f["caused_by"] for f in follow] == ["case.opened", "appointment.requested"]
    assert all(o.key == a.encode() for o in sent if o.topic == "follow")


def test_a_redelivered_batch_sends_the_same_followups_again_and_stores_nothing_new(database_url):
    agent, sent = make_agent(database_url)
    a = factory.case_id()
    batch = messages([factory.opened(a), factory.requested(a)])
    asyncio.run(agent.process(batch))
    first = [json.loads(o.value) for o in sent]
    sent.clear()
    summary = asyncio.run(agent.process(batch))
    assert summary.outcomes == {"duplicate": 2} and [json.loads(o.value) for o in sent] == first


def test_a_transient_failure_retries_and_never_dead_letters(database_url):
    agent, sent = make_agent(database_url, failures=3)
    summary = asyncio.run(agent.process(messages([factory.opened(factory.case_id())])))
    assert summary.outcomes == {"ok": 1} and summary.dead_letters == 0
    assert [o.topic for o in sent] == ["follow"]


def test_a_closed_office_is_avoided_by_later_decisions(database_url):
    registry = load_registry()
    board = OfficeBoard(registry)
    agent, sent = make_agent(database_url, board=board)
    a, b = factory.case_id(), factory.case_id()
    asyncio.run(agent.process(messages([factory.opened(a)])))
    before = json.loads(sent[-1].value)
    assert before["kind"] == "office_appointment"
    unit = registry.points[before["point_id"]].unit
    for change in status_events(factory.office(unit, "closed_for_good"), registry):
        board.apply(change)
    asyncio.run(agent.process(messages([factory.opened(b, at=factory.START.replace(minute=30))])))
    after = json.loads(sent[-1].value)
    assert after["point_id"] != before["point_id"]


def test_a_fully_booked_office_is_avoided_and_a_cancellation_frees_it(database_url):
    registry = load_registry()
    point = registry.points["sp-1804"]
    day = "2026-11-24T10:00:00+01:00"  # the service day of factory.START
    agent, sent = make_agent(database_url)
    cases = [factory.case_id() for _ in range(point.daily_capacity)]
    bookings = [factory.event("appointment.booked", {"case_id": c, "appointment_id": f"{c}-a1", "mode": "office",
                                                     "starts_at": day, "duration_min": 30, "office_id": point.unit})
                for c in cases]
    asyncio.run(agent.process(messages(bookings)))
    full = factory.case_id()
    asyncio.run(agent.process(messages([factory.opened(full)])))
    assert json.loads(sent[-1].value)["point_id"] != point.id
    cancel = factory.event("appointment.cancelled", {"case_id": cases[0], "appointment_id": f"{cases[0]}-a1",
                                                     "cancelled_by": "office", "reason": "rescheduled"})
    asyncio.run(agent.process(messages([cancel, factory.opened(factory.case_id())])))
    assert json.loads(sent[-1].value)["point_id"] == point.id


def test_a_broker_error_while_sending_is_retried_not_lost(database_url):
    agent, sent = make_agent(database_url)
    real_send, failures = agent.send, [2]

    async def flaky_send(outputs):
        if failures[0]:
            failures[0] -= 1
            raise ConnectionError("broker away")
        await real_send(outputs)

    agent.send = flaky_send
    summary = asyncio.run(agent.process(messages([factory.opened(factory.case_id())])))
    assert summary.outcomes == {"ok": 1} and failures == [0]
    assert [o.topic for o in sent] == ["follow"]


def test_an_event_the_database_refuses_is_dead_lettered_and_the_rest_of_the_batch_is_stored(database_url):
    router = default_router()
    real = decider(router, lambda: None)
    poison = factory.case_id("poison")

    def decide(state, event, bookings):
        decided = real(state, event, bookings)
        if state.case_id == poison:  # jsonb cannot hold a NUL character: the database refuses the row
            return Decided(replace(decided.row, explanation={"text": "\u0000"}))
        return decided

    sent = []

    async def send(outputs):
        sent.extend(outputs)

    ledger = Ledger(database_url, f"test-{uuid.uuid4().hex[:8]}", decide)
    agent = RouterAgent(ledger, send, followups_topic="follow", dead_letter_topic="dead",
                        backoff=Backoff(first_s=0.01, max_s=0.02))
    good = [factory.case_id() for _ in range(5)]
    batch = [factory.opened(c) for c in good[:2]] + [factory.opened(poison)] + [factory.opened(c) for c in good[2:]]
    summary = asyncio.run(agent.process(messages(batch)))
    assert summary.outcomes == {"ok": 5, "failed": 1}
    dead = [o for o in sent if o.topic == "dead"]
    assert len(dead) == 1 and dict(dead[0].headers)["dlq_stage"] == b"store"
    assert b"DataError" in dict(dead[0].headers)["dlq_error"] or b"refused" in dict(dead[0].headers)["dlq_reason"]
    assert sorted(json.loads(o.value)["case_id"] for o in sent if o.topic == "follow") == sorted(good)


def test_an_event_routing_fails_on_is_dead_lettered_again_when_redelivered(database_url):
    def broken(state, event, bookings):
        raise KeyError("unexpected data")

    sent = []

    async def send(outputs):
        sent.extend(outputs)

    agent = RouterAgent(Ledger(database_url, f"test-{uuid.uuid4().hex[:8]}", broken), send,
                        followups_topic="follow", dead_letter_topic="dead", backoff=Backoff(0.01, 0.02))
    batch = messages([factory.opened(factory.case_id())])
    first = asyncio.run(agent.process(batch))
    again = asyncio.run(agent.process(batch))  # e.g. the worker died after the commit, before sending
    assert first.outcomes == {"failed": 1} and again.outcomes == {"duplicate": 1}
    assert [o.topic for o in sent] == ["dead", "dead"]
    assert all(dict(o.headers)["dlq_stage"] == b"decide" and b"KeyError" in dict(o.headers)["dlq_error"]
               for o in sent)


def test_visit_events_are_kept_in_the_case_audit_trail_and_route_nothing(database_url):
    from streams.history import case_history

    agent, sent = make_agent(database_url)
    case = factory.case_id()
    asyncio.run(agent.process(messages([factory.opened(case)])))
    before = len(sent)
    summary = asyncio.run(agent.process(messages([factory.visit_failed(case), factory.visit_completed(case)])))
    assert summary.outcomes == {"ok": 2} and len(sent) == before  # no follow-up, no dead letter
    entries = case_history(database_url, case).entries
    assert [(e.entry, e.event_name) for e in entries[-2:]] == [("event", "visit.failed"), ("event", "visit.completed")]
    assert "planner" in entries[-2].summary


def test_a_replayed_event_whose_routing_failed_is_routed_again_once_the_code_is_fixed(database_url):
    def broken(state, event, bookings):
        raise KeyError("unexpected data")

    sent = []

    async def send(outputs):
        sent.extend(outputs)

    consumer, router = f"test-{uuid.uuid4().hex[:8]}", default_router()
    buggy = RouterAgent(Ledger(database_url, consumer, broken), send, followups_topic="follow",
                        dead_letter_topic="dead", backoff=Backoff(0.01, 0.02))
    case = factory.case_id()
    batch = messages([factory.opened(case)])
    assert asyncio.run(buggy.process(batch)).outcomes == {"failed": 1}
    fixed = RouterAgent(Ledger(database_url, consumer, decider(router, lambda: None)), send,
                        followups_topic="follow", dead_letter_topic="dead", backoff=Backoff(0.01, 0.02))
    assert asyncio.run(fixed.process(batch)).outcomes == {"duplicate": 1}  # a plain redelivery: dead-lettered again
    assert [o.topic for o in sent] == ["dead", "dead"]
    replay = [replace(m, replayed=True) for m in batch]
    assert asyncio.run(fixed.process(replay)).outcomes == {"ok": 1}
    assert [o.topic for o in sent[2:]] == ["follow"] and json.loads(sent[2].value)["case_id"] == case
    assert asyncio.run(fixed.process(replay)).outcomes == {"duplicate": 1}  # replayed twice: sent again, no new row
    assert [o.topic for o in sent[3:]] == ["follow"] and json.loads(sent[3].value) == json.loads(sent[2].value)
    from streams.history import case_history

    assert case_history(database_url, case).current is not None


def test_each_new_event_observes_its_publish_to_committed_latency_once(database_url):
    import time

    from prometheus_client import REGISTRY

    def observed():
        labels = {"agent": "router"}
        return (REGISTRY.get_sample_value("veiviser_pipeline_latency_seconds_count", labels) or 0,
                REGISTRY.get_sample_value("veiviser_pipeline_latency_seconds_sum", labels) or 0)

    agent, _sent = make_agent(database_url)
    before_count, before_sum = observed()
    published = time.time() - 2.0
    batch = [replace(m, published_s=published) for m in messages([factory.opened(factory.case_id()) for _ in range(3)])]
    asyncio.run(agent.process(batch))
    count, total = observed()
    assert count - before_count == 3 and 6.0 <= total - before_sum < 60
    asyncio.run(agent.process(batch))  # redelivered: duplicates observe nothing
    assert observed()[0] == count


def test_the_router_leaves_the_travel_time_out_of_a_protected_persons_follow_up(database_url):
    agent, sent = make_agent(database_url)
    plain, protected = factory.case_id(), factory.case_id()
    asyncio.run(agent.process(messages([factory.opened(plain),
                                        factory.opened(protected, protected_address="confidential")])))
    minutes = {json.loads(o.value)["case_id"]: json.loads(o.value)["travel_minutes"] for o in sent
               if o.topic == "follow"}
    assert minutes[plain] is not None and minutes[protected] is None

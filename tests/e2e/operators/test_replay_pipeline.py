"""A poison message through the router on private topics, the console, a fix, a replay: the decision is stored.

The router's agent (streams.router.RouterAgent, the same code the faust worker runs) consumes a private case
topic with the real ledger. Its database refuses the poison case's decision (a bug in the decide function,
simulated), so the event is dead-lettered (stage store) and the rest of the batch is stored. The console
shows the dead letter; the bug is fixed; the operator replays it; the agent routes it and stores the decision.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace

import psycopg2
import pytest
from kafka import KafkaConsumer, KafkaProducer

from events import topics
from events.publisher import Accepted, Publisher
from geo.routing import default_router
from services.operators import OperatorsSettings
from streams.capacity import booking_changes
from streams.health import load_health_settings
from streams.ledger import Decided, Ledger
from streams.retry import Backoff
from streams.router import Message, RouterAgent, decider
from streams.stages import Origin
from tests.integration.operators.support import TOKEN_TEXT, RunningConsole, forget, wait_for
from tests.unit.streams import factory

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


class Router:
    """The router agent on private topics; `fixed` is False while the bug is in."""

    def __init__(self, bootstrap_servers, database_url, cases, followups, dlq, group, poison_case):
        self.bootstrap_servers, self.cases, self.group, self.poison_case = bootstrap_servers, cases, group, poison_case
        self.fixed = False
        router = default_router()
        real = decider(router, lambda: None)

        def decide(state, event, bookings):
            decided = real(state, event, bookings)
            if state.case_id == poison_case and not self.fixed and decided.row is not None:
                return Decided(replace(decided.row, explanation={"text": "\u0000"}))  # jsonb refuses NUL
            return decided

        self.ledger = Ledger(database_url, group, decide,
                             changes=lambda before, event: booking_changes(before, event, router.registry))
        self.producer = KafkaProducer(bootstrap_servers=bootstrap_servers, acks="all")
        self.agent = RouterAgent(self.ledger, self._send, followups_topic=followups, dead_letter_topic=dlq,
                                 backoff=Backoff(first_s=0.05, max_s=0.2))
        self.consumer = KafkaConsumer(cases, bootstrap_servers=bootstrap_servers, group_id=group,
                                      auto_offset_reset="earliest", enable_auto_commit=False)

    async def _send(self, outputs):
        futures = [self.producer.send(o.topic, value=o.value, key=o.key, headers=list(o.headers)) for o in outputs]
        self.producer.flush()
        for future in futures:
            future.get(timeout=30)

    def run(self, count: int, timeout_s: float = 60) -> dict[str, int]:
        """Consume and process until `count` messages were handled; the summed outcomes."""
        outcomes: dict[str, int] = {}

        def step():
            polled = self.consumer.poll(timeout_ms=1000)
            batch = [Message(r.value, Origin(r.topic, r.partition, r.offset, r.key))
                     for records in polled.values() for r in records]
            if batch:
                summary = asyncio.run(self.agent.process(batch))
                self.consumer.commit()
                for name, n in summary.outcomes.items():
                    outcomes[name] = outcomes.get(name, 0) + n
            return sum(outcomes.values()) >= count

        wait_for(step, timeout_s, f"the router did not handle {count} message(s)")
        return outcomes

    def close(self):
        self.consumer.close()
        self.producer.close()
        self.ledger.close()


@pytest.fixture
def pipeline(bootstrap_servers, database_url, new_topic, new_group, settings):
    cases, followups, dlq = new_topic(3), new_topic(3), new_topic(3)
    group = new_group("veiviser-e2e-ops")
    poison_case, good_case = f"poison-{uuid.uuid4().hex[:12]}", f"good-{uuid.uuid4().hex[:12]}"
    router = Router(bootstrap_servers, database_url, cases, followups, dlq, group, poison_case)
    console = RunningConsole(settings, OperatorsSettings(tokens=TOKEN_TEXT, dead_letter_topic=dlq,
                                                         sample_interval_s=1),
                             load_health_settings(groups=group, interval_s=1))
    yield router, console, cases, followups, dlq, (poison_case, good_case)
    console.close()
    router.close()
    forget(database_url, dlq)
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM streams_processed_events WHERE consumer = %s", (group,))
        cur.execute("DELETE FROM streams_office_bookings WHERE consumer = %s", (group,))
        for table in ("streams_case_audit", "streams_decisions", "streams_case_state"):
            cur.execute(f"DELETE FROM {table} WHERE case_id = ANY(%s)", ([poison_case, good_case],))


def decisions(database_url, case_id):
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT outcome, point_id, team_id FROM streams_decisions WHERE case_id = %s AND is_current",
                    (case_id,))
        return cur.fetchall()


def test_a_poison_message_is_shown_replayed_after_the_fix_and_its_decision_stored(pipeline, bootstrap_servers,
                                                                                  database_url):
    router, console, cases, followups, dlq, (poison_case, good_case) = pipeline
    with Publisher(bootstrap_servers, topic_map={topics.CASE_EVENTS: cases}) as publisher:
        results = publisher.publish_batch([factory.opened(good_case), factory.opened(poison_case)])
    assert all(isinstance(r, Accepted) for r in results), results

    assert router.run(2) == {"ok": 1, "failed": 1}
    assert decisions(database_url, poison_case) == [] and len(decisions(database_url, good_case)) == 1

    # the console shows it: count, group, and the dead letter with its reason
    snapshot = wait_for(lambda: (s := console.get("/api/snapshot", "viewer").json())["dead_letters"]
                        and s["dead_letters"]["open"] == 1 and s["health"] and s, 30, "the console shows no dead letter")
    assert snapshot["dead_letters"]["open_by_origin"] == [{"origin": cases, "stage": "store", "count": 1}]
    assert [g["group"] for g in snapshot["health"]["groups"]] == [router.group]
    [item] = console.get("/api/deadletters").json()["items"]
    assert item["stage"] == "store" and item["origin_topic"] == cases and poison_case not in str(item)

    router.fixed = True  # the fix is deployed
    done = console.post("/api/deadletters/replay", {"refs": [item["ref"]], "why": "explanation fix deployed"})
    assert done.status_code == 200, done.text

    assert router.run(1) == {"ok": 1}
    [(outcome, point_id, team_id)] = decisions(database_url, poison_case)
    assert outcome in ("office_appointment", "mobile_visit") and (point_id or team_id)
    again = console.post("/api/deadletters/replay", {"refs": [item["ref"]]})
    assert again.status_code == 409 and "already replayed" in again.json()["results"][0]["detail"]
    wait_for(lambda: console.get("/api/snapshot", "viewer").json()["dead_letters"]["open"] == 0, 15,
             "the replayed dead letter is still counted open")

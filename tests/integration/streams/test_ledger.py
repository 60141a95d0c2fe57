"""The ledger against the real PostgreSQL: one transaction per batch, redelivery changes nothing."""

from __future__ import annotations

import uuid

import psycopg2
import pytest

from streams.errors import TransientError
from streams.ledger import Decided, DecisionRow, Incoming, Ledger
from tests.unit.streams import factory

pytestmark = pytest.mark.integration


def fake_decide(state, event, bookings):
    """A decision naming the event that caused it, so tests can tell decisions apart."""
    did = str(uuid.uuid5(uuid.NAMESPACE_URL, event["event_id"]))
    follow = {"followup_id": did, "case_id": state.case_id, "causation_id": event["event_id"]}
    return Decided(DecisionRow(did, state.case_id, event["event_id"], "office_appointment", "sp-1804", None,
                               "1804", {"why": event["event_name"]}, follow, event["occurred_at"]))


def incoming(events, partition=0, first_offset=0):
    return [Incoming(e, "case-events", partition, first_offset + i) for i, e in enumerate(events)]


@pytest.fixture
def ledger(database_url):
    made = Ledger(database_url, f"test-{uuid.uuid4().hex[:8]}", fake_decide)
    yield made
    made.close()


def counts(database_url, case_ids):
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        found = {}
        for table in ("streams_case_state", "streams_decisions", "streams_case_audit"):
            cur.execute(f"SELECT count(*) FROM {table} WHERE case_id = ANY(%s)", (list(case_ids),))
            found[table] = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM streams_decisions WHERE case_id = ANY(%s) AND is_current", (list(case_ids),))
        found["current"] = cur.fetchone()[0]
    return found


def test_a_batch_stores_state_decisions_and_audit_in_order(ledger, database_url):
    a, b = factory.case_id(), factory.case_id()
    events = [factory.opened(a), factory.opened(b), factory.requested(a), factory.closed(b)]
    result = ledger.record(incoming(events))
    assert result.fresh == [e["event_id"] for e in events] and not result.duplicates
    assert [f["causation_id"] for f in result.followups] == [e["event_id"] for e in events]
    assert result.followups[-1]["kind"] == "withdrawn"  # b closed: its follow-up is withdrawn
    assert counts(database_url, [a, b]) == {"streams_case_state": 2, "streams_decisions": 4,
                                            "streams_case_audit": 8, "current": 1}
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT seq, entry, event_name FROM streams_case_audit WHERE case_id = %s ORDER BY seq", (a,))
        assert cur.fetchall() == [(1, "event", "case.opened"), (2, "decision", "case.opened"),
                                  (3, "event", "appointment.requested"), (4, "decision", "appointment.requested")]
        cur.execute("SELECT event_id::text FROM streams_decisions WHERE case_id = %s AND is_current", (a,))
        assert cur.fetchone()[0] == events[2]["event_id"]
        cur.execute("SELECT status FROM streams_case_state WHERE case_id = %s", (b,))
        assert cur.fetchone()[0] == "closed"


def test_redelivery_changes_nothing_and_returns_the_stored_followups(ledger, database_url):
    a = factory.case_id()
    events = [factory.opened(a), factory.requested(a)]
    first = ledger.record(incoming(events))
    before = counts(database_url, [a])
    again = ledger.record(incoming(events))
    assert again.fresh == [] and again.duplicates == [e["event_id"] for e in events]
    assert again.decisions == [] and again.followups == first.followups
    assert counts(database_url, [a]) == before


def test_a_batch_mixing_old_and_new_events_applies_only_the_new_ones(ledger, database_url):
    a = factory.case_id()
    opened, first_request, second_request = factory.opened(a), factory.requested(a, 1), factory.requested(a, 2)
    ledger.record(incoming([opened, first_request]))
    result = ledger.record(incoming([opened, first_request, second_request, second_request]))
    assert result.fresh == [second_request["event_id"]]
    assert result.duplicates == [opened["event_id"], first_request["event_id"], second_request["event_id"]]
    assert counts(database_url, [a]) == {"streams_case_state": 1, "streams_decisions": 3,
                                         "streams_case_audit": 6, "current": 1}


def test_a_later_batch_continues_the_audit_sequence_and_moves_the_current_decision(ledger, database_url):
    a = factory.case_id()
    ledger.record(incoming([factory.opened(a)]))
    later = factory.requested(a)
    ledger.record(incoming([later], first_offset=1))
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT seq FROM streams_case_audit WHERE case_id = %s ORDER BY seq", (a,))
        assert [r[0] for r in cur.fetchall()] == [1, 2, 3, 4]
        cur.execute("SELECT event_id::text FROM streams_decisions WHERE case_id = %s AND is_current", (a,))
        assert [r[0] for r in cur.fetchall()] == [later["event_id"]]


def test_an_event_for_an_unseen_case_is_kept_without_a_decision(ledger, database_url):
    a = factory.case_id()
    result = ledger.record(incoming([factory.requested(a)]))
    assert result.decisions == [] and len(result.fresh) == 1
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT status FROM streams_case_state WHERE case_id = %s", (a,))
        assert cur.fetchone()[0] == "unknown"
        cur.execute("SELECT detail->>'note' FROM streams_case_audit WHERE case_id = %s", (a,))
        assert "case.opened was not seen" in cur.fetchone()[0]


def test_a_routing_failure_is_recorded_and_reported_not_raised(database_url):
    def broken(state, event, bookings):
        raise ValueError("router bug")

    ledger = Ledger(database_url, f"test-{uuid.uuid4().hex[:8]}", broken)
    a = factory.case_id()
    opened = factory.opened(a)
    result = ledger.record(incoming([opened]))
    again = ledger.record(incoming([opened]))  # redelivered: its failure is reported again, to dead-letter it
    ledger.close()
    assert result.failures == {opened["event_id"]: "ValueError: router bug"}
    assert again.failures == {} and again.replayed == result.failures
    assert counts(database_url, [a])["streams_decisions"] == 0


def test_the_audit_trail_never_holds_coordinates(ledger, database_url):
    a = factory.case_id()
    ledger.record(incoming([factory.opened(a)]))
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT detail::text FROM streams_case_audit WHERE case_id = %s", (a,))
        text = " ".join(r[0] for r in cur.fetchall())
    assert "coordinates" in text and "67.28" not in text and "14.405" not in text


def test_an_unreachable_database_is_a_transient_error():
    ledger = Ledger("postgresql://nobody@127.0.0.1:1/none", "test", fake_decide, connect_timeout_s=1)
    with pytest.raises(TransientError, match="unavailable"):
        ledger.record(incoming([factory.opened(factory.case_id())]))


def test_bookings_are_counted_in_the_same_transaction_and_seen_by_later_decisions(database_url):
    from datetime import date

    seen = []

    def decide(state, event, bookings):
        seen.append(dict(bookings))
        return fake_decide(state, event, bookings)

    slot = ("sp-1804", date(2026, 11, 25))

    def changes(before, event):
        return {"appointment.booked": [(slot, 1)], "appointment.cancelled": [(slot, -1)]}.get(event["event_name"], [])

    ledger = Ledger(database_url, f"test-{uuid.uuid4().hex[:8]}", decide, changes=changes)
    a, b = factory.case_id(), factory.case_id()
    book = factory.event("appointment.booked", {"case_id": a, "appointment_id": f"{a}-a1", "mode": "office",
                                                "starts_at": "2026-11-25T09:00:00+01:00", "duration_min": 30,
                                                "office_id": "1804"})
    events = [factory.opened(a), book, book, factory.opened(b)]
    ledger.record(incoming(events))
    ledger.record(incoming(events))  # redelivered: counted once
    cancel = factory.event("appointment.cancelled", {"case_id": a, "appointment_id": f"{a}-a1",
                                                     "cancelled_by": "person", "reason": "illness"})
    ledger.record(incoming([cancel, factory.requested(b)]))
    ledger.close()
    assert seen[0].get(slot, 0) == 0 and seen[1][slot] == 1  # b's decision saw a's booking
    assert seen[2][slot] == 0  # released before b's request was routed
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT booked FROM streams_office_bookings WHERE consumer = %s", (ledger.consumer,))
        assert cur.fetchall() == [(0,)]


def test_the_history_shows_every_event_and_decision_in_order_with_the_current_explanation(ledger, database_url):
    from streams.history import case_history

    a = factory.case_id()
    ledger.record(incoming([factory.opened(a), factory.requested(a)]))
    found = case_history(database_url, a)
    assert found.status == "open" and found.events_seen == 2
    assert [(e.seq, e.entry, e.event_name) for e in found.entries] == [
        (1, "event", "case.opened"), (2, "decision", "case.opened"), (3, "event", "appointment.requested"),
        (4, "decision", "appointment.requested")]
    assert "office_appointment at sp-1804" in found.entries[3].summary
    assert found.current["explanation"] == {"why": "appointment.requested"}
    assert case_history(database_url, factory.case_id()) is None


def test_closing_a_case_withdraws_its_current_decision_and_reopening_routes_it_again(ledger, database_url):
    from streams.history import case_history

    a = factory.case_id()
    ledger.record(incoming([factory.opened(a), factory.requested(a)]))
    close = factory.closed(a)
    done = ledger.record(incoming([close], first_offset=2))
    assert [f["kind"] for f in done.followups] == ["withdrawn"] and done.followups[0]["causation_id"] == close["event_id"]
    found = case_history(database_url, a)
    assert found.status == "closed" and found.current is None
    assert [(e.entry, e.event_name) for e in found.entries[-2:]] == [("event", "case.closed"), ("decision", "case.closed")]
    assert counts(database_url, [a])["current"] == 0
    again = ledger.record(incoming([close], first_offset=2))  # redelivered: the same withdrawal is sent again
    assert again.duplicates == [close["event_id"]] and again.followups == done.followups
    assert ledger.record(incoming([factory.closed(a)], first_offset=3)).followups == []  # closed twice: nothing
    ledger.record(incoming([factory.opened(a)], first_offset=4))
    assert case_history(database_url, a).current["explanation"] == {"why": "case.opened"}


def test_closed_and_reopened_in_one_batch_the_last_decision_is_current(ledger, database_url):
    a = factory.case_id()
    ledger.record(incoming([factory.opened(a), factory.closed(a), factory.opened(a)]))
    assert counts(database_url, [a])["current"] == 1
    b = factory.case_id()
    ledger.record(incoming([factory.opened(b), factory.requested(b), factory.closed(b)]))
    assert counts(database_url, [b])["current"] == 0


def test_cancelling_the_request_before_booking_withdraws_the_decision_it_caused(ledger, database_url):
    a = factory.case_id()
    ledger.record(incoming([factory.opened(a), factory.requested(a)]))
    cancel = factory.cancelled(a)
    done = ledger.record(incoming([cancel], first_offset=2))
    assert [(f["kind"], f["causation_id"]) for f in done.followups] == [("withdrawn", cancel["event_id"])]
    assert counts(database_url, [a])["current"] == 0


def test_a_redelivered_batch_sends_old_and_new_follow_ups_in_their_events_order(ledger, database_url):
    a = factory.case_id()
    opened, requested = factory.opened(a), factory.requested(a)
    ledger.record(incoming([opened]))  # stored, then the worker died before sending
    again = ledger.record(incoming([opened, requested]))
    assert [f["causation_id"] for f in again.followups] == [opened["event_id"], requested["event_id"]]


def test_an_event_that_breaks_outside_routing_is_failed_alone_and_the_batch_goes_on(database_url):
    a, b = factory.case_id(), factory.case_id()
    bad = factory.requested(b)

    def changes(before, event):
        if event["event_id"] == bad["event_id"]:
            raise KeyError("a bug in counting bookings")
        return []

    ledger = Ledger(database_url, f"test-{uuid.uuid4().hex[:8]}", fake_decide, changes=changes)
    try:
        done = ledger.record(incoming([factory.opened(b), factory.opened(a), bad, factory.requested(a)]))
    finally:
        ledger.close()
    assert list(done.failures) == [bad["event_id"]] and "KeyError" in done.failures[bad["event_id"]]
    assert len(done.fresh) == 4 and [f["case_id"] for f in done.followups] == [b, a, a]
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT events_seen FROM streams_case_state WHERE case_id = %s", (b,))
        assert cur.fetchone()[0] == 1  # the failed event did not change the case
        cur.execute("SELECT entry, detail->>'note' FROM streams_case_audit WHERE case_id = %s ORDER BY seq", (b,))
        assert [r[0] for r in cur.fetchall()] == ["event", "decision", "event"]

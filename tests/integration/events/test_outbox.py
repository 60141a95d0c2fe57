"""The transactional outbox on the real PostgreSQL and Kafka: commit publishes, rollback does not, and a
relay that dies mid-way loses nothing after a restart."""

from __future__ import annotations

import uuid

import psycopg2
import pytest

from events import topics
from events.errors import EventRejected
from events.outbox import OutboxRelay, enqueue
from events.publisher import Publisher
from tests.integration.events.kafka_read import read_all
from tests.unit.events.examples import event

pytestmark = pytest.mark.integration


@pytest.fixture
def outbox_table(database_url):
    name = f"outbox_test_{uuid.uuid4().hex[:10]}"
    conn = psycopg2.connect(database_url)
    with conn, conn.cursor() as cur:
        cur.execute(f"CREATE TABLE {name} (LIKE event_outbox INCLUDING ALL)")
    yield name
    with conn, conn.cursor() as cur:
        cur.execute(f"DROP TABLE {name}")
    conn.close()


def _enqueue(database_url, table, events, topic_map, rollback=False):
    conn = psycopg2.connect(database_url)
    try:
        with conn.cursor() as cur:
            for e in events:
                enqueue(cur, e, table=table, topic_map=topic_map)
        conn.rollback() if rollback else conn.commit()
    finally:
        conn.close()


def _pending(database_url, table) -> int:
    conn = psycopg2.connect(database_url)
    with conn, conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {table} WHERE sent_at IS NULL")
        count = cur.fetchone()[0]
    conn.close()
    return count


class CrashBeforeMarking(OutboxRelay):
    """A relay that publishes its batch and dies before recording it (the worst moment)."""

    def _mark_sent(self, cur, done):
        raise RuntimeError("relay killed")


def _events(count):
    out = []
    for i in range(count):
        e = event("case.closed", ordering_key=f"case-{i % 4}")
        e["payload"]["case_id"] = f"case-{i % 4}"
        out.append(e)
    return out


def test_only_committed_events_are_published(bootstrap_servers, database_url, new_topic, outbox_table):
    topic_map = {topics.CASE_EVENTS: new_topic(partitions=3)}
    committed, rolled_back = _events(3), _events(2)
    _enqueue(database_url, outbox_table, committed, topic_map)
    _enqueue(database_url, outbox_table, rolled_back, topic_map, rollback=True)
    with Publisher(bootstrap_servers) as publisher:
        assert OutboxRelay(database_url, publisher, table=outbox_table).drain() == 3
    ids = {r.headers[0][1].decode() for r in read_all(bootstrap_servers, topic_map[topics.CASE_EVENTS], expect=3)}
    assert ids == {e["event_id"] for e in committed}


def test_an_invalid_event_is_refused_before_it_reaches_the_outbox(database_url, outbox_table):
    bad = event("case.closed")
    bad["payload"]["reason"] = "bored"
    conn = psycopg2.connect(database_url)
    with pytest.raises(EventRejected, match=r"payload\.reason"), conn.cursor() as cur:
        enqueue(cur, bad, table=outbox_table)
    conn.close()


def test_relay_survives_a_crash_and_restart_without_loss(bootstrap_servers, database_url, new_topic, outbox_table):
    topic = new_topic(partitions=3)
    events = _events(60)
    _enqueue(database_url, outbox_table, events, {topics.CASE_EVENTS: topic})
    first = Publisher(bootstrap_servers)
    assert OutboxRelay(database_url, first, batch_size=20, table=outbox_table).run_once() == 20
    with pytest.raises(RuntimeError, match="relay killed"):
        CrashBeforeMarking(database_url, first, batch_size=15, table=outbox_table).run_once()
    first.close()
    assert _pending(database_url, outbox_table) == 40  # the crashed batch still counts as pending

    with Publisher(bootstrap_servers) as second:
        assert OutboxRelay(database_url, second, batch_size=25, table=outbox_table).drain() == 40
    assert _pending(database_url, outbox_table) == 0
    records = read_all(bootstrap_servers, topic, expect=75)
    seen = [dict(r.headers)["event_id"].decode() for r in records]
    assert set(seen) == {e["event_id"] for e in events}  # nothing lost
    assert len(seen) == 75  # the 15 of the crashed batch came again (at least once), with the same ids
    for key in {e["ordering_key"] for e in events}:
        on_key = [dict(r.headers)["event_id"].decode() for r in sorted(records, key=lambda r: r.offset)
                  if r.key == key.encode()]
        first_seen = list(dict.fromkeys(on_key))
        assert first_seen == [e["event_id"] for e in events if e["ordering_key"] == key]

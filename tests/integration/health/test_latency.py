"""End-to-end latency from the ledger's decision entries, in seconds (PostgreSQL; the query runs on a
session-local copy of streams_case_audit so other engineers' rows do not move the figures)."""

from __future__ import annotations

import psycopg2
import pytest

from streams.health.latency import latency_from, pipeline_latency

pytestmark = pytest.mark.integration
ROW = """INSERT INTO streams_case_audit (case_id, seq, entry, event_id, event_name, occurred_at, detail, recorded_at)
         VALUES (%s, %s, %s, gen_random_uuid(), 'case.opened', now() - make_interval(secs => %s), '{}',
                 now() - make_interval(secs => %s))"""


@pytest.fixture
def audit(database_url):
    conn = psycopg2.connect(database_url)
    cur = conn.cursor()
    cur.execute("CREATE TEMP TABLE streams_case_audit (LIKE public.streams_case_audit INCLUDING DEFAULTS)")
    yield cur
    conn.rollback()
    conn.close()


def add(cur, n, entry, latency_s, recorded_ago_s=1.0):
    cur.execute(ROW, (f"c{n}", n, entry, latency_s + recorded_ago_s, recorded_ago_s))


def test_percentiles_are_seconds_between_occurred_and_recorded(audit):
    for n, seconds in enumerate([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]):
        add(audit, n, "decision", seconds)
    add(audit, 50, "event", 500)  # events are not decisions
    found = latency_from(audit, minutes=5)
    assert found.count == 10 and found.skewed == 0
    assert found.p50 == pytest.approx(5.5, abs=0.01) and found.max == pytest.approx(10, abs=0.01)
    assert found.p90 == pytest.approx(9.1, abs=0.01) and found.p99 == pytest.approx(9.91, abs=0.01)


def test_only_the_last_minutes_count_and_a_clock_ahead_is_counted_apart(audit):
    add(audit, 1, "decision", 2.0)
    add(audit, 2, "decision", 4.0, recorded_ago_s=600)  # ten minutes ago: outside a 5-minute window
    add(audit, 3, "decision", -30.0)                    # the producer's clock is 30 s ahead
    found = latency_from(audit, minutes=5)
    assert (found.count, found.skewed) == (1, 1) and found.p50 == pytest.approx(2.0, abs=0.01)


def test_no_decisions_give_no_percentiles(audit):
    found = latency_from(audit, minutes=5)
    assert found.count == 0 and found.p50 is None and found.max is None


def test_the_real_ledger_answers(database_url):
    found = pipeline_latency(database_url, minutes=1)
    assert found.count >= 0 and found.minutes == 1

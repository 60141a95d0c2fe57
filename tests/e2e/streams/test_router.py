"""End to end: simulated office systems -> Kafka -> router workers -> PostgreSQL and follow-ups.

Each test checks the same promises: every case event recorded exactly once; every routable case has exactly
one current decision; no decision doubled; each case's events kept in the order they were published; every
follow-up of a stored decision on the follow-ups topic; every bad message in the dead-letter topic with a
reason and its origin.
"""

from __future__ import annotations

import json
import signal
import time
from collections import defaultdict

import pytest

from events import topics
from tests.e2e.streams.pipeline import Pipeline

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

BAD = [(b"bad-1", b"not json at all {"),
       (b"bad-2", json.dumps({"event_name": "case.opened", "payload": {}}).encode()),
       (b"bad-3", json.dumps({"event_id": "x", "event_name": "case.teleported", "schema_version": 1}).encode())]


@pytest.fixture
def pipeline(new_topic, new_group, bootstrap_servers, database_url, tmp_path):
    made = Pipeline(bootstrap_servers, database_url, cases=new_topic(3), offices=new_topic(
        1, {"cleanup.policy": "compact"}), followups=new_topic(3), dead_letter=new_topic(1),
        group=new_group("router"), logs=tmp_path)
    yield made
    made.stop_all()
    made.cleanup()


def case_events(events: list[dict]) -> list[dict]:
    return [e for e in events if topics.ROUTES[e["event_name"]].topic == topics.CASE_EVENTS]


def check_exactly_once(pipeline: Pipeline, events: list[dict]) -> None:
    ours = case_events(events)
    by_case = defaultdict(list)
    for event in ours:
        by_case[event["payload"]["case_id"]].append(event["event_id"])
    case_ids = sorted(by_case)
    assert pipeline.processed() == len(ours)
    audit = pipeline.audit(case_ids)
    decisions = pipeline.decisions(case_ids)
    # per case: its events in the order published, audit seq 1..n without gaps, offsets increasing
    for case_id, published in by_case.items():
        rows = audit[case_id]
        assert [r[0] for r in rows] == list(range(1, len(rows) + 1)), case_id
        event_rows = [r for r in rows if r[1] == "event"]
        assert [r[2] for r in event_rows] == published, case_id
        assert [r[4] for r in event_rows] == sorted(r[4] for r in event_rows), case_id
    # decisions: one per routing event, never doubled, exactly one current per case that has any
    assert len({d[2] for d in decisions}) == len(decisions)
    audited = [r for rows in audit.values() for r in rows if r[1] == "decision"]
    assert len(audited) == len(decisions)
    current, outcome = defaultdict(int), {}
    for case_id, _, event_id, is_current, _, kind in decisions:
        current[case_id] += is_current
        outcome[event_id] = kind
    opened = {e["payload"]["case_id"] for e in ours if e["event_name"] == "case.opened"}
    withdrawn = 0
    for case_id in opened:
        last = [r[2] for r in audit[case_id] if r[1] == "decision"][-1:]
        if last and outcome[last[0]] == "withdrawn":  # closed, or its request cancelled: nothing current
            assert current[case_id] == 0, case_id
            withdrawn += 1
            continue
        not_routable = any("not routable" in (r[5] or "") for r in audit[case_id])
        assert current[case_id] == 1 or (not_routable and current[case_id] == 0), case_id
    assert sum(current.values()) >= 0.8 * (len(opened) - withdrawn)
    # follow-ups: every stored decision was sent, keyed by its case
    sent = pipeline.read(pipeline.followups)
    sent_ids = {json.loads(m.value)["followup_id"] for m in sent}
    assert sent_ids == {d[1] for d in decisions}
    assert all(m.key.decode() == json.loads(m.value)["case_id"] for m in sent)
    check_follow_up_order(sent, audit)


def check_follow_up_order(sent: list, audit: dict) -> None:
    """Per case, the follow-ups' last copies (a redelivered batch sends some again) are in decision order."""
    causes = defaultdict(list)
    for message in sent:  # one case is one partition: read in offset order
        follow = json.loads(message.value)
        causes[follow["case_id"]].append(follow["causation_id"])
    for case_id, found in causes.items():
        last = list(dict.fromkeys(reversed(found)))[::-1]
        decided = [r[2] for r in audit[case_id] if r[1] == "decision"]
        assert last == [c for c in decided if c in set(last)], case_id


def check_dead_letters(pipeline: Pipeline, expected: dict[bytes, str]) -> None:
    """expected: key -> the topic the bad message was consumed from."""
    dead = pipeline.read(pipeline.dead_letter)
    assert sorted(m.key for m in dead) == sorted(expected)
    for message in dead:
        headers = dict(message.headers)
        assert headers["dlq_reason"] and headers["dlq_origin_topic"].decode() == expected[message.key]
        assert int(headers["dlq_origin_offset"]) >= 0 and headers["dlq_source"].startswith(b"stream:")


@pytest.mark.parametrize("count", [1500, 10_000], ids=["1500-events", "10000-events"])
def test_simulated_events_are_routed_and_stored_exactly_once(pipeline, count):
    events = pipeline.simulated(count)
    pipeline.publish(events)
    pipeline.publish_raw(BAD)
    pipeline.publish_raw([(b"bad-office", b'{"event_name": "office.status_changed"}')], pipeline.offices)
    pipeline.start_worker()
    pipeline.wait_processed(len(case_events(events)))
    expected = {key: pipeline.cases for key, _ in BAD} | {b"bad-office": pipeline.offices}
    check_dead_letters(pipeline, expected)
    pipeline.stop_all()
    check_exactly_once(pipeline, events)


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
def test_a_killed_worker_restarts_without_losing_or_doubling(pipeline, how):
    events = pipeline.simulated(2000)
    total = len(case_events(events))
    worker = pipeline.start_worker()
    publishing = pipeline.publish_paced(events, per_second=400)
    pipeline.wait_processed(total // 3)
    pipeline.kill(worker, how)
    assert pipeline.processed() < total  # killed in the middle of the run
    pipeline.start_worker()
    publishing.join(timeout=120)
    pipeline.wait_processed(total)
    pipeline.stop_all()
    check_exactly_once(pipeline, events)


def test_a_second_worker_joining_mid_run_loses_and_doubles_nothing(pipeline):
    events = pipeline.simulated(2000)
    half = len(events) // 2
    pipeline.publish(events[:half])
    pipeline.start_worker()
    pipeline.wait_processed(len(case_events(events[:half])) // 2)
    publishing = pipeline.publish_paced(events[half:], per_second=300)
    pipeline.start_worker()
    pipeline.wait_log(1, "Setting newly assigned partitions")  # the group rebalanced onto both workers
    publishing.join(timeout=120)
    pipeline.wait_processed(len(case_events(events)))
    pipeline.stop_all()
    check_exactly_once(pipeline, events)


def test_an_office_closing_mid_run_is_avoided_by_later_decisions(pipeline):
    from datetime import timedelta

    from geo.offices import load_registry
    from tests.unit.streams import factory

    pipeline.publish([factory.office("1804", "open", at=factory.START - timedelta(hours=1))])
    pipeline.start_worker()
    first = factory.case_id("e2e")
    pipeline.publish([factory.opened(first)])
    pipeline.wait_processed(1)
    before = pipeline.decisions([first])[0][4]
    unit = load_registry().points[before].unit
    pipeline.publish([factory.office(unit, "closed_for_good", at=factory.START + timedelta(minutes=10))])
    time.sleep(3)  # the office table follows the topic continuously; give it a moment
    later = [factory.case_id("e2e") for _ in range(3)]
    pipeline.publish([factory.opened(c, at=factory.START + timedelta(minutes=20)) for c in later])
    pipeline.wait_processed(4)
    chosen = {row[0]: row[4] for row in pipeline.decisions(later)}
    assert len(chosen) == 3 and before not in chosen.values(), chosen


def test_the_database_briefly_away_delays_but_loses_doubles_and_dead_letters_nothing(pipeline):
    from urllib.parse import urlsplit, urlunsplit

    from tests.e2e.streams.proxy import Proxy

    parts = urlsplit(pipeline.database_url)
    proxy = Proxy(parts.hostname, parts.port)
    netloc = parts.netloc.rsplit("@", 1)[0] + f"@127.0.0.1:{proxy.port}"
    pipeline.worker_database_url = urlunsplit(parts._replace(netloc=netloc))
    try:
        events = pipeline.simulated(1500)
        total = len(case_events(events))
        pipeline.start_worker()
        publishing = pipeline.publish_paced(events, per_second=300)
        pipeline.wait_processed(total // 4)
        proxy.down()
        stalled = pipeline.processed()
        time.sleep(4)
        assert pipeline.processed() == stalled  # nothing stored while the database is away
        proxy.up()
        publishing.join(timeout=120)
        pipeline.wait_processed(total)
    finally:
        pipeline.stop_all()
        proxy.close()
    assert pipeline.read(pipeline.dead_letter) == []
    assert "router: transient failure, retry" in (pipeline.logs / "worker-0.log").read_text()
    check_exactly_once(pipeline, events)

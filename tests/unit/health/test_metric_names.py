"""Metric names and units across the project (Prometheus conventions): counters end in _total, durations are
in seconds, labels have bounded cardinality; and the values really are in those units."""

from __future__ import annotations

import re

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from tests.unit.health.catalogue import exposed_names, project_metrics

pytestmark = pytest.mark.unit

UNBOUNDED_LABEL = re.compile(r"(^|_)(case|person|visit|worker|event|decision|member|client|user|token|offset)"
                             r"(_?(id|ref|key))?$")
TIME_WORDS = re.compile(r"(duration|latency|lag_time|elapsed|wait|age|uptime|_time)(_|$)")
WRONG_UNITS = re.compile(r"_(ms|millis|milliseconds|microseconds|us|ns|minutes|hours|days|kb|mb|gb|kib|mib)(_|$)")


@pytest.fixture(scope="module")
def metrics():
    found = project_metrics()
    assert len(found) >= 10, f"found too few project metrics to check: {sorted(found)}"
    return found


def test_the_catalogue_finds_the_stream_health_and_intake_metrics(metrics):
    names = exposed_names(metrics)
    for expected in ("veiviser_stream_messages_total", "veiviser_consumer_lag_seconds",
                     "veiviser_consumer_group_status", "veiviser_intake_request_duration_seconds_bucket",
                     "veiviser_intake_events_total"):
        assert expected in names


def test_every_metric_is_in_the_veiviser_namespace_in_snake_case(metrics):
    bad = [name for name in metrics if not re.fullmatch(r"veiviser_[a-z][a-z0-9_]*[a-z0-9]", name)]
    assert bad == []


def test_counters_are_exposed_with_total_and_nothing_else_is_named_like_one(metrics):
    names = exposed_names(metrics)
    for name, (kind, _, where) in metrics.items():
        if kind == "counter":
            assert f"{name}_total" in names and not name.endswith("_total"), f"{name} ({where})"
        else:
            assert not name.endswith(("_total", "_count", "_sum", "_bucket")), \
                f"{name} ({where}) is a {kind} named like a counter or histogram part"


def test_durations_are_in_seconds_and_no_other_unit_is_used(metrics):
    for name, (kind, _, where) in metrics.items():
        assert not WRONG_UNITS.search(name), f"{name} ({where}) uses a non-base unit; use _seconds or _bytes"
        if TIME_WORDS.search(name) or kind in ("histogram", "summary") and "size" not in name:
            assert name.endswith(("_seconds", "_bytes")), f"{name} ({where}) measures time: name it ..._seconds"


def test_labels_have_bounded_cardinality(metrics):
    for name, (_, labels, where) in metrics.items():
        bad = sorted(label for label in labels if UNBOUNDED_LABEL.search(label))
        assert bad == [], f"{name} ({where}) has labels {bad}: never a case, person, visit or worker id"


def test_the_naming_rules_catch_bad_names():
    assert UNBOUNDED_LABEL.search("case_id") and UNBOUNDED_LABEL.search("worker") and UNBOUNDED_LABEL.search("person_ref")
    assert not UNBOUNDED_LABEL.search("agent") and not UNBOUNDED_LABEL.search("outcome")
    assert WRONG_UNITS.search("veiviser_request_latency_ms") and not WRONG_UNITS.search("veiviser_x_seconds")
    assert TIME_WORDS.search("veiviser_request_duration") and not TIME_WORDS.search("veiviser_messages")


def test_health_gauges_hold_seconds_and_messages():
    from streams.health.burrow import Status
    from streams.health.metrics import HealthMetrics
    from streams.health.window import GroupView, Snapshot, Window

    registry = CollectorRegistry()
    gauges = HealthMetrics(registry)
    window = Window(2)
    tp = ("veiviser.case-events.v1", 0)
    for at in (100.0, 101.0):
        window.add(Snapshot(at, (GroupView("veiviser-router", "Stable", 1, {tp: 10}, {tp: "w"}),), {tp: 14},
                            oldest_unread={("veiviser-router", tp): at - 90.5}))
    gauges.update(window.report(now=101.0))
    labels = {"group": "veiviser-router", "topic": tp[0], "partition": "0"}
    assert registry.get_sample_value("veiviser_consumer_lag_seconds", labels) == 90.5
    assert registry.get_sample_value("veiviser_consumer_lag_messages", labels) == 4
    assert registry.get_sample_value("veiviser_consumer_partition_status", {**labels, "status": "STALL"}) == 1
    assert registry.get_sample_value("veiviser_consumer_group_status",
                                     {"group": "veiviser-router", "status": Status.ERR.value}) == 1
    assert b"veiviser_health_last_sample_timestamp_seconds 101.0" in generate_latest(registry)


def test_a_group_that_goes_away_leaves_no_stale_series():
    from streams.health.metrics import HealthMetrics
    from streams.health.window import GroupView, Snapshot, Window

    registry = CollectorRegistry()
    gauges = HealthMetrics(registry)
    tp = ("t", 0)
    window = Window(2)
    window.add(Snapshot(1.0, (GroupView("veiviser-a", "Stable", 1, {tp: 1}),), {tp: 1}))
    gauges.update(window.report(now=1.0))
    window.add(Snapshot(2.0, (), {tp: 1}))
    gauges.update(window.report(now=2.0))
    assert registry.get_sample_value("veiviser_consumer_lag_messages", {"group": "veiviser-a", "topic": "t",
                                                                        "partition": "0"}) is None


def test_intake_counts_requests_latency_in_seconds_and_events_by_outcome():
    import json

    from fastapi.testclient import TestClient

    from services.intake.app import create_app
    from services.intake.core import Intake
    from services.intake.deadletters import DeadLetters
    from tests.unit.events.examples import event
    from tests.unit.events.fakes import MemoryReceipts, RecordingPublisher

    publisher = RecordingPublisher()
    client = TestClient(create_app(Intake(publisher, MemoryReceipts(), DeadLetters(publisher)),
                                   {"modia-token-0123456789abcdef": "modia"}, 64 * 1024))
    auth = {"Authorization": "Bearer modia-token-0123456789abcdef"}
    sent = event("case.opened")
    for _ in range(2):  # the second is a duplicate
        assert client.post("/v1/events", content=json.dumps(sent), headers=auth).status_code == 202
    bad = {**event("case.opened"), "event_name": "case.nonsense"}
    assert client.post("/v1/events", content=json.dumps(bad), headers=auth).status_code == 422
    assert client.post("/v1/events", content=b"{}").status_code == 401
    registry = client.app.state.metrics.registry
    value = registry.get_sample_value
    assert value("veiviser_intake_events_total", {"outcome": "accepted"}) == 1
    assert value("veiviser_intake_events_total", {"outcome": "duplicate"}) == 1
    assert value("veiviser_intake_events_total", {"outcome": "rejected"}) == 1
    assert value("veiviser_intake_requests_total", {"method": "POST", "route": "/v1/events", "status": "202"}) == 2
    assert value("veiviser_intake_requests_total", {"method": "POST", "route": "/v1/events", "status": "401"}) == 1
    count = value("veiviser_intake_request_duration_seconds_count", {"method": "POST", "route": "/v1/events"})
    total = value("veiviser_intake_request_duration_seconds_sum", {"method": "POST", "route": "/v1/events"})
    assert count == 4 and 0 < total < 10  # seconds: four in-process requests take well under ten seconds
    scraped = client.get("/metrics")
    assert scraped.status_code == 200 and b"veiviser_intake_events_total" in scraped.content
    assert b"modia" not in scraped.content

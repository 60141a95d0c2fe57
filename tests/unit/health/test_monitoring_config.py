"""The alert rules and the Grafana dashboard read metrics the way their types allow: increase(), rate() and
irate() only over counters (and histogram buckets, sums and counts). A gauge that drops - the dead-letter
topic's end offset when the topic is recreated - reads as a counter reset there, so arrivals are a counter."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry

from streams.health.metrics import HealthMetrics
from streams.health.window import Snapshot, Window
from tests.unit.health.catalogue import project_metrics

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[3]
COUNTING = re.compile(r"\b(?:increase|rate|irate|resets)\s*\(\s*(veiviser_[a-z0-9_]+)")


def expressions() -> list[tuple[str, str]]:
    rules = yaml.safe_load((ROOT / "infra/prometheus/alerts.yml").read_text())["groups"]
    found = [(f"alert {r['alert']}", r["expr"]) for g in rules for r in g["rules"]]
    dashboard = json.loads((ROOT / "infra/grafana/dashboards/veiviser-streams.json").read_text())
    found += [(f"panel {p.get('title')!r}", t["expr"]) for p in dashboard["panels"] for t in p["targets"]]
    return found


def counting_series() -> set[str]:
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count")}
    return {name + s for name, (kind, _, _) in project_metrics().items() for s in suffixes.get(kind, ())}


def test_increase_and_rate_are_only_applied_to_counters():
    counters = counting_series()
    wrong = [(where, name) for where, expr in expressions() for name in COUNTING.findall(expr) if name not in counters]
    assert wrong == [], f"increase()/rate() over a gauge (a drop reads as a counter reset): {wrong}"
    assert any("veiviser_dead_letters_arrived_total" in expr for where, expr in expressions()
               if where == "alert DeadLettersArriving")


def report(window: Window, at: float, end: int):
    window.add(Snapshot(at, (), {}, dead_letter_topic="dlq", dead_letter_total=end, dead_letter_end=end))
    return window.report(now=at)


def test_dead_letters_arrived_counts_growth_and_a_recreated_topic_as_new_arrivals():
    registry = CollectorRegistry()
    metrics, window = HealthMetrics(registry), Window(3)
    arrived = lambda: registry.get_sample_value("veiviser_dead_letters_arrived_total")  # noqa: E731
    metrics.update(report(window, 1.0, 500))
    assert arrived() == 0  # what was there before the sampler started is no arrival
    metrics.update(report(window, 2.0, 503))
    assert arrived() == 3
    metrics.update(report(window, 3.0, 2))  # deleted and created again: its 2 messages are new
    assert arrived() == 5
    metrics.update(report(window, 4.0, 2))
    assert arrived() == 5
    assert registry.get_sample_value("veiviser_dead_letter_end_offset") == 2


def test_prometheus_keeps_one_source_of_the_health_gauges_the_console_also_serves():
    config = yaml.safe_load((ROOT / "infra/prometheus/prometheus.yml").read_text())
    [operators] = [job for job in config["scrape_configs"] if job["job_name"] == "operators"]
    [drop] = [r for r in operators["metric_relabel_configs"] if r["action"] == "drop"]
    dropped = re.compile(drop["regex"])
    registry = CollectorRegistry()
    HealthMetrics(registry)
    health = {m.name for m in registry.collect()}
    assert health and all(dropped.fullmatch(name) or dropped.fullmatch(name + "_total") for name in health)
    console = [name for name, (_, _, where) in project_metrics().items() if name.startswith("veiviser_operators_")]
    assert console and not any(dropped.fullmatch(name) for name in console)


def test_an_unreadable_group_has_its_own_gauge_and_alert():
    registry = CollectorRegistry()
    metrics, window = HealthMetrics(registry), Window(2)
    window.add(Snapshot(1.0, (), {}, unreadable={"veiviser-router": "KafkaTimeoutError()"}))
    metrics.update(window.report(now=1.0))
    assert registry.get_sample_value("veiviser_consumer_group_unreadable", {"group": "veiviser-router"}) == 1
    assert registry.get_sample_value("veiviser_consumer_group_status", {"group": "veiviser-router", "status": "ERR"}) == 1
    window.add(Snapshot(2.0, (), {}))
    metrics.update(window.report(now=2.0))
    assert registry.get_sample_value("veiviser_consumer_group_unreadable", {"group": "veiviser-router"}) is None
    alerts = dict(expressions())
    assert "veiviser_consumer_group_unreadable" in alerts["alert ConsumerGroupUnreadable"]
    assert "unless" in alerts["alert ConsumerLagGrowing"]  # an unreadable group is not "falling behind"

"""The console's metrics: base units, counters end in _total, labels of bounded cardinality."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from services.operators import metrics

pytestmark = pytest.mark.unit
BOUNDED = {"action", "outcome", "origin", "stage", "route", "status"}


def families():
    return [f for f in REGISTRY.collect() if f.name.startswith("veiviser_operators_")]


def test_every_console_metric_has_a_base_unit_name_and_bounded_labels():
    metrics.set_open([{"origin": "veiviser.case-events.v1", "stage": "validate", "count": 2}])
    metrics.ACTIONS.labels(action="replay", outcome="done").inc(0)
    metrics.REQUESTS.labels(route="/api/snapshot", status="200").observe(0.01)
    found = {f.name: f for f in families()}
    assert set(found) >= {"veiviser_operators_dead_letters_indexed", "veiviser_operators_actions",
                          "veiviser_operators_dead_letters_open", "veiviser_operators_request_duration_seconds",
                          "veiviser_operators_sample_duration_seconds"}
    for family in found.values():
        if family.type == "counter":
            assert all(s.name.endswith(("_total", "_created")) for s in family.samples), family.name
        if family.type == "histogram":
            assert family.name.endswith("_seconds"), family.name
        labels = {k for s in family.samples for k in s.labels} - {"le"}
        assert labels <= BOUNDED, (family.name, labels)


def test_origins_no_longer_open_go_to_zero():
    metrics.set_open([{"origin": "t-a", "stage": "validate", "count": 3}])
    metrics.set_open([{"origin": "t-b", "stage": "store", "count": 1}])
    assert REGISTRY.get_sample_value("veiviser_operators_dead_letters_open", {"origin": "t-a", "stage": "validate"}) == 0
    assert REGISTRY.get_sample_value("veiviser_operators_dead_letters_open", {"origin": "t-b", "stage": "store"}) == 1

"""The topic planner is pure: spec + what the cluster has -> changes and refusals."""

from __future__ import annotations

import pytest

from infra.errors import TopicSpecError
from infra.topics import Current, TopicSpec, effective, load_spec, plan

pytestmark = pytest.mark.unit


def spec(partitions=6, replication=1, **config) -> TopicSpec:
    return TopicSpec("t", partitions, replication, {k.replace("_", "."): str(v) for k, v in config.items()})


def test_missing_topic_is_created():
    changes, refusals = plan([spec()], {})
    assert [(c.action, c.topic) for c in changes] == [("create", "t")] and refusals == []


def test_matching_topic_needs_nothing():
    changes, refusals = plan([spec(retention_ms=5)], {"t": Current(6, 1, {"retention.ms": "5"})})
    assert changes == [] and refusals == []


def test_more_partitions_are_added_and_fewer_are_refused_with_the_reason():
    grow, _ = plan([spec(partitions=8)], {"t": Current(6, 1, {})})
    assert [(c.action, c.detail) for c in grow] == [("add-partitions", "6 -> 8")]
    _, refusals = plan([spec(partitions=4)], {"t": Current(6, 1, {})})
    assert len(refusals) == 1 and "cannot remove partitions" in refusals[0] and "partitions: 6" in refusals[0]


def test_replication_change_is_refused():
    _, refusals = plan([spec(replication=3)], {"t": Current(6, 1, {})})
    assert "reassignment" in refusals[0]


def test_configs_are_set_and_stray_keys_removed():
    changes, _ = plan([spec(retention_ms=10)], {"t": Current(6, 1, {"retention.ms": "5", "segment.ms": "9"})})
    assert {(c.action, c.detail) for c in changes} == {("set-config", "retention.ms=10"), ("delete-config", "segment.ms")}


@pytest.mark.parametrize(("brokers", "replication", "min_isr"), [(1, 1, "1"), (2, 2, "1"), (3, 3, "2"), (5, 3, "2")])
def test_replication_and_min_insync_are_capped_by_the_cluster_size(brokers, replication, min_isr):
    capped = effective(spec(replication=3, min_insync_replicas=2), brokers)
    assert capped.replication_factor == replication and capped.config["min.insync.replicas"] == min_isr


def test_shipped_spec_has_compacted_state_topics_and_a_dead_letter_topic():
    topics = {t.name: t for t in load_spec()}
    assert topics["veiviser.office-status.v1"].config["cleanup.policy"] == "compact"
    assert topics["veiviser.field-shifts.v1"].config["cleanup.policy"] == "compact"
    assert "veiviser.dead-letter.v1" in topics
    assert all(t.replication_factor == 3 and t.config["min.insync.replicas"] == "2" for t in topics.values())


def test_bad_spec_is_explained(tmp_path):
    bad = tmp_path / "topics.yaml"
    bad.write_text("topics:\n  x:\n    partitions: 0\n")
    with pytest.raises(TopicSpecError, match=r"x has partitions=0; it must be a whole number >= 1"):
        load_spec(bad)
    bad.write_text("topics:\n  x:\n    partitons: 3\n")
    with pytest.raises(TopicSpecError, match="unknown keys"):
        load_spec(bad)

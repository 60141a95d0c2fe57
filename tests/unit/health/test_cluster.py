"""Brokers and partitions from kafka-python's describe_cluster / describe_topics answers (shapes as the client
returns them): a broker that vanished or is fenced is down, a partition without a live leader is offline."""

from __future__ import annotations

import pytest

from streams.health.collect import cluster_health

pytestmark = pytest.mark.unit


def broker(node, fenced=False):
    return {"broker_id": node, "host": f"kafka-{node}", "port": 9092, "rack": None, "is_fenced": fenced}


def topic(name, *partitions):
    return {"name": name, "error_code": 0, "is_internal": False, "partitions": [
        {"partition_index": i, "leader_id": leader, "replica_nodes": replicas, "isr_nodes": isr,
         "offline_replicas": [], "error_code": 0} for i, (leader, replicas, isr) in enumerate(partitions)]}


def test_a_healthy_three_broker_cluster():
    found = cluster_health({"cluster_id": "c", "controller_id": 2, "brokers": [broker(1), broker(2), broker(3)]},
                           [topic("t", (1, [1, 2, 3], [1, 2, 3]), (2, [2, 3, 1], [2, 3, 1]))], set(), 1)
    assert [b.node_id for b in found.brokers] == [1, 2, 3] and not found.brokers_down
    assert not found.offline and not found.under_replicated
    assert (found.topics, found.partitions, found.controller_id, found.quorum_leader_id) == (1, 2, 2, 1)


def test_a_broker_gone_from_the_cluster_is_down_and_its_partitions_under_replicated():
    # broker 3 stopped: no longer listed, still named as a replica; its partitions shrank their ISR
    found = cluster_health({"brokers": [broker(1), broker(2)]},
                           [topic("t", (1, [1, 2, 3], [1, 2]), (2, [3, 2, 1], [2, 1]))], {1, 2, 3}, 1)
    assert [(b.node_id, b.up, b.host) for b in found.brokers_down] == [(3, False, None)]
    assert [p.partition for p in found.under_replicated] == [0, 1] and not found.offline


def test_a_broker_seen_before_but_named_nowhere_now_is_still_down():
    found = cluster_health({"brokers": [broker(1)]}, [topic("t", (1, [1], [1]))], {1, 2}, 1)
    assert [b.node_id for b in found.brokers_down] == [2]


def test_a_fenced_broker_is_down_and_a_partition_led_by_nobody_or_by_it_is_offline():
    found = cluster_health({"brokers": [broker(1), broker(2, fenced=True)]},
                           [topic("t", (-1, [1, 2], []), (2, [2], [2]), (1, [1, 2], [1, 2]))], set(), 1)
    assert [(b.node_id, b.fenced) for b in found.brokers_down] == [(2, True)]
    assert [(p.partition, p.leader) for p in found.offline] == [(0, -1), (1, 2)]
    assert not found.under_replicated

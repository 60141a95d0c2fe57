"""`veiviser health` against the real broker: exit status 1 when a group is ERR, 0 otherwise; --json."""

from __future__ import annotations

import json

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

from veiviser.cli import main

pytestmark = pytest.mark.integration


def run(capsys, *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as stopped:
        main(["health", "--samples", "2", "--interval", "0.2", "--no-latency", *args])
    return stopped.value.code, capsys.readouterr().out


def abandoned_group(bootstrap_servers: str, topic: str, group: str) -> None:
    """A group that committed offset 1 of 5 on `topic` and left: lag 4, nobody reading."""
    producer = KafkaProducer(bootstrap_servers=bootstrap_servers)
    for _ in range(5):
        producer.send(topic, b"event", partition=0)
    producer.close()
    consumer = KafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=group, enable_auto_commit=False)
    consumer.commit({TopicPartition(topic, 0): OffsetAndMetadata(1, "", -1)})
    consumer.close()


def test_an_abandoned_group_with_lag_makes_the_check_fail(bootstrap_servers, new_topic, new_group, capsys):
    topic, group = new_topic(partitions=1), new_group()
    abandoned_group(bootstrap_servers, topic, group)
    code, out = run(capsys, "--group", group, "--json")
    report = json.loads(out)
    assert code == 1 and report["status"] == "ERR"
    [found] = report["groups"]
    assert found["group"] == group and found["status"] == "ERR" and found["state"] == "Empty"
    assert [(p["partition"], p["lag"], p["status"]) for p in found["partitions"]] == [(0, 4, "STOP")]


def test_no_group_in_trouble_passes_and_prints_tables(bootstrap_servers, new_group, capsys):
    code, out = run(capsys, "--group", new_group())
    assert code == 0 and "consumer groups" in out and "brokers" in out


def test_a_cluster_that_does_not_answer_exits_2_with_the_fix(monkeypatch, capsys):
    monkeypatch.setenv("VEIVISER_BOOTSTRAP_SERVERS", "127.0.0.1:9")  # discard port: nothing listens
    monkeypatch.setenv("VEIVISER_DATABASE_URL", "postgresql://nobody@127.0.0.1:9/none")
    with pytest.raises(SystemExit) as stopped:
        main(["health", "--samples", "2", "--interval", "0.2", "--no-latency"])
    assert stopped.value.code == 2
    assert "127.0.0.1:9" in capsys.readouterr().err

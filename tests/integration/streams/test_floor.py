"""The benchmark's faust floor (streams.floor) against the real broker: it takes every message of a topic
through the router's batching path and reports how many, how long and the CPU it used."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from kafka import KafkaProducer

pytestmark = pytest.mark.integration


def test_the_floor_consumes_every_message_and_reports_figures(bootstrap_servers, new_topic, new_group, tmp_path):
    topic = new_topic(partitions=3)
    producer = KafkaProducer(bootstrap_servers=bootstrap_servers)
    for i in range(120):
        producer.send(topic, key=f"case-{i % 7}".encode(), value=json.dumps({"n": i}).encode())
    producer.flush()
    producer.close()
    done = subprocess.run([sys.executable, "-m", "streams.floor", bootstrap_servers, topic, new_group("floor"), "120",
                           str(tmp_path / "floor")], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads([line for line in done.stdout.splitlines() if line.startswith("{")][-1])
    assert figures["total"] == 120 and 0 <= figures["messages"] < 120  # the first batch is not timed
    assert figures["seconds"] >= 0 and figures["cpu_s"] >= 0

"""`veiviser worker health` as a process: it samples the real cluster and serves the gauges at /metrics; SIGTERM
stops it cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.integration.health.test_health_command import abandoned_group

pytestmark = pytest.mark.e2e
VEIVISER = Path(sys.executable).parent / "veiviser"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        return answer.read().decode()


def test_the_health_worker_exports_an_abandoned_group_as_err(bootstrap_servers, new_topic, new_group, tmp_path):
    topic, group, port = new_topic(partitions=1), new_group(), free_port()
    abandoned_group(bootstrap_servers, topic, group)
    env = {**os.environ, "VEIVISER_HEALTH_GROUPS": group, "VEIVISER_HEALTH_TOPICS": topic,
           "VEIVISER_HEALTH_INTERVAL_S": "0.5", "VEIVISER_HEALTH_WINDOW": "3"}
    log = (tmp_path / "health.log").open("w")
    worker = subprocess.Popen([str(VEIVISER), "worker", "health", "--metrics-port", str(port)], env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        wanted = f'veiviser_consumer_group_status{{group="{group}",status="ERR"}} 1.0'
        text = ""
        deadline = time.monotonic() + 60
        while wanted not in text and time.monotonic() < deadline:
            time.sleep(0.5)
            try:
                text = scrape(port)
            except OSError:
                continue
        assert wanted in text, (tmp_path / "health.log").read_text()[-2000:]
        labels = f'group="{group}",partition="0",topic="{topic}"'
        assert f"veiviser_consumer_lag_messages{{{labels}}} 4.0" in text
        stop = f'group="{group}",partition="0",status="STOP",topic="{topic}"'
        assert f"veiviser_consumer_partition_status{{{stop}}} 1.0" in text
        assert 'veiviser_health_status{status="ERR"} 1.0' in text
    finally:
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(20)
        log.close()
    assert code == 0

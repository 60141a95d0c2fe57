"""`veiviser run` (what `make run` starts): every worker and service up beside the stack, answering, and all
stopped by one SIGTERM. Workers read private topics and groups so the shared topics are left alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.e2e

VEIVISER = str(Path(sys.executable).parent / "veiviser")
ENDPOINTS = {"intake": "http://127.0.0.1:8081/v1/health", "field": "http://127.0.0.1:8083/v1/health",
             "operators": "http://127.0.0.1:8084/v1/health", "health": "http://127.0.0.1:9109/metrics",
             "router": "http://127.0.0.1:9108/metrics", "planner": "http://127.0.0.1:9110/metrics"}


def private_env(new_topic, new_group) -> dict[str, str]:
    cases, visits, offices, follow, shifts, plans, dead = (new_topic(1) for _ in range(7))
    router, planner = new_group("run-router"), new_group("run-planner")
    return {**os.environ,
            "VEIVISER_STREAMS_GROUP": router, "VEIVISER_STREAMS_LEDGER_CONSUMER": router,
            "VEIVISER_STREAMS_CASE_EVENTS_TOPIC": cases, "VEIVISER_STREAMS_VISIT_EVENTS_TOPIC": visits,
            "VEIVISER_STREAMS_OFFICE_STATUS_TOPIC": offices, "VEIVISER_STREAMS_FOLLOWUPS_TOPIC": follow,
            "VEIVISER_STREAMS_DEAD_LETTER_TOPIC": dead,
            "VEIVISER_PLANNER_GROUP": planner, "VEIVISER_PLANNER_FOLLOWUPS_TOPIC": follow,
            "VEIVISER_PLANNER_FIELD_SHIFTS_TOPIC": shifts, "VEIVISER_PLANNER_VISIT_EVENTS_TOPIC": visits,
            "VEIVISER_PLANNER_ROUTE_PLANS_TOPIC": plans, "VEIVISER_PLANNER_DEAD_LETTER_TOPIC": dead,
            "VEIVISER_HEALTH_GROUPS": f"{router}*", "VEIVISER_HEALTH_DEAD_LETTER_TOPIC": dead,
            "VEIVISER_INTAKE_TOKENS": "office-demo=" + "i" * 32,
            "VEIVISER_FIELD_TOKENS": "fw-000=" + "f" * 32, "VEIVISER_OPERATORS_TOKENS": "ola:operator=" + "o" * 32}


def answering(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_run_starts_every_part_and_one_sigterm_stops_them_all(bootstrap_servers, database_url, new_topic,
                                                              new_group, tmp_path):
    log = (tmp_path / "run.log").open("wb")
    run = subprocess.Popen([VEIVISER, "run", "--no-simulator"], env=private_env(new_topic, new_group),
                           stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline, up = time.monotonic() + 120, {}
        while time.monotonic() < deadline and len(up) < len(ENDPOINTS):
            assert run.poll() is None, (tmp_path / "run.log").read_text()
            up.update({name: True for name, url in ENDPOINTS.items() if answering(url)})
            time.sleep(1)
        assert sorted(up) == sorted(ENDPOINTS), (tmp_path / "run.log").read_text()
        assert "veiviser_" in httpx.get(ENDPOINTS["health"], timeout=5).text
        time.sleep(5)  # the workers have joined their groups by now; none of them stopped
        assert run.poll() is None, (tmp_path / "run.log").read_text()
    finally:
        run.send_signal(signal.SIGTERM)
        code = run.wait(timeout=60)
    text = (tmp_path / "run.log").read_text()
    assert code == 0, text
    for part in ("router", "planner", "health", "intake", "field", "operators"):
        assert f"{part} (exit" in text, text
    assert not any(answering(url) for url in ENDPOINTS.values())

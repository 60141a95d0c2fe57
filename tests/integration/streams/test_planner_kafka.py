"""The planner worker (`veiviser worker planner`) on private topics: real Kafka, real PostgreSQL, a real process."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from kafka import KafkaConsumer, KafkaProducer

from streams import plans
from tests.integration.streams.test_planner_agent import PLACES, Team, followup, shift, visit_event

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
VEIVISER = Path(sys.executable).parent / "veiviser"


@pytest.fixture
def team(database_url):
    made = Team(database_url)
    yield made
    made.cleanup()


@pytest.fixture
def topics(new_topic):
    return {name: new_topic(partitions=2) for name in ("follow", "shifts", "visits", "plans", "dead")}


@pytest.fixture
def worker(topics, new_group, tmp_path):
    group = new_group("planner-test")
    env = {**os.environ, "VEIVISER_PLANNER_GROUP": group, "VEIVISER_PLANNER_CONSUMER": group,
           "VEIVISER_PLANNER_FOLLOWUPS_TOPIC": topics["follow"], "VEIVISER_PLANNER_FIELD_SHIFTS_TOPIC": topics["shifts"],
           "VEIVISER_PLANNER_VISIT_EVENTS_TOPIC": topics["visits"], "VEIVISER_PLANNER_ROUTE_PLANS_TOPIC": topics["plans"],
           "VEIVISER_PLANNER_DEAD_LETTER_TOPIC": topics["dead"], "VEIVISER_PLANNER_SESSION_TIMEOUT_S": "8",
           "VEIVISER_PLANNER_BATCH_WITHIN_S": "0.2"}
    log = (tmp_path / "planner.log").open("wb")
    proc = subprocess.Popen([str(VEIVISER), "worker", "planner", "--loglevel", "info"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    yield proc
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    shutil.rmtree(ROOT / ".run" / "planner" / group, ignore_errors=True)


def publish(bootstrap_servers: str, topic: str, items: list, key: str = "k") -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap_servers, acks="all")
    for item in items:
        value = item if isinstance(item, bytes) else json.dumps(item).encode()
        producer.send(topic, key=key.encode(), value=value)
    producer.flush()
    producer.close()


def read(bootstrap_servers: str, topic: str, count: int, timeout_s: float = 90.0) -> list:
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap_servers, auto_offset_reset="earliest",
                             enable_auto_commit=False, consumer_timeout_ms=1000)
    found, deadline = [], time.monotonic() + timeout_s
    while len(found) < count and time.monotonic() < deadline:
        found.extend(consumer)
    consumer.close()
    return found


def test_the_worker_plans_from_kafka_and_replans_when_a_visit_is_done(bootstrap_servers, database_url, team, topics,
                                                                       worker):
    day = datetime.now(ZoneInfo("Europe/Oslo")).date() + timedelta(days=1)
    cases = [team.case(p) for p in PLACES[:3]]
    publish(bootstrap_servers, topics["shifts"], [shift(team, team.workers[0], day=day)])
    publish(bootstrap_servers, topics["follow"], [followup(team, c) for c in cases] + [b"{broken"])
    dead = read(bootstrap_servers, topics["dead"], 1)
    assert [dict(m.headers)["dlq_source"] for m in dead] == [b"stream:planner"]
    route = None
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:  # shifts and follow-ups may come in one batch or several
        route = plans.worker_route(database_url, team.workers[0], day)
        if route is not None and len(route.stops) == 3:
            break
        time.sleep(0.5)
    assert route is not None and sorted(s.case_id for s in route.stops) == sorted(cases)
    first = route.stops[0]
    publish(bootstrap_servers, topics["visits"], [
        visit_event("visit.completed", first.visit_id, first.case_id, team.workers[0],
                    completed_at=datetime.now(ZoneInfo("Europe/Oslo")).isoformat(timespec="seconds"))])
    events = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not any(e.get("payload", {}).get("cause") == "visit_completed"
                                                  for e in events):
        events = [json.loads(m.value) for m in read(bootstrap_servers, topics["plans"], len(events) + 1, 5)]
    assert events[0]["event_name"] == "route.planned"
    changed = next(e for e in events if e["payload"].get("cause") == "visit_completed")
    assert {m.key for m in read(bootstrap_servers, topics["plans"], len(events), 5)} == {team.id.encode()}
    stops = changed["payload"]["routes"][0]["stops"]
    assert stops[0]["visit_id"] == first.visit_id and stops[0]["fixed"] is True
    assert plans.worker_route(database_url, team.workers[0], day).stops[0].status == "completed"
    assert uuid.UUID(changed["event_id"])

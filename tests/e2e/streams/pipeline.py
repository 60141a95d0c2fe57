"""A router pipeline on private topics for the end-to-end tests: real broker, real database, real workers.

Workers are `veiviser worker router` processes started and stopped (or killed) by the tests; topics are
fresh per test (the `new_topic` fixture) and the simulator seed is random, so case and event ids never
collide with other runs sharing the database.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
from kafka import KafkaConsumer

from events import topics
from events.publisher import Accepted, Publisher
from events.simulator import Simulator, SimulatorConfig

ROOT = Path(__file__).resolve().parents[3]
VEIVISER = Path(sys.executable).parent / "veiviser"


@dataclass
class Pipeline:
    bootstrap_servers: str
    database_url: str
    cases: str
    offices: str
    followups: str
    dead_letter: str
    group: str
    logs: Path
    visits: str = ""  # the visit-events topic the worker reads ("" : a private one is named after the group)
    seed: int = field(default_factory=lambda: random.randrange(10**6, 10**9))
    workers: list[subprocess.Popen] = field(default_factory=list)
    worker_database_url: str | None = None  # e.g. through a proxy the test takes down

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "VEIVISER_STREAMS_GROUP": self.group, "VEIVISER_STREAMS_LEDGER_CONSUMER": self.group,
                "VEIVISER_STREAMS_CASE_EVENTS_TOPIC": self.cases, "VEIVISER_STREAMS_OFFICE_STATUS_TOPIC": self.offices,
                "VEIVISER_STREAMS_FOLLOWUPS_TOPIC": self.followups,
                "VEIVISER_STREAMS_VISIT_EVENTS_TOPIC": self.visits or f"{self.group}.visits",
                "VEIVISER_STREAMS_DEAD_LETTER_TOPIC": self.dead_letter, "VEIVISER_STREAMS_BATCH_SIZE": "200",
                "VEIVISER_STREAMS_SESSION_TIMEOUT_S": "8", "VEIVISER_STREAMS_RETRY_MAX_S": "1",
                **({"VEIVISER_DATABASE_URL": self.worker_database_url} if self.worker_database_url else {})}

    # -- events ---------------------------------------------------------------------------------------------
    def simulated(self, count: int) -> list[dict]:
        """Simulated events for the case and office-status topics (shifts and visits are other agents')."""
        wanted = {topics.CASE_EVENTS, topics.OFFICE_STATUS}
        return [e for e in Simulator(SimulatorConfig(seed=self.seed)).events(count)
                if topics.ROUTES[e["event_name"]].topic in wanted]

    def publish(self, events: list[dict]) -> None:
        mapping = {topics.CASE_EVENTS: self.cases, topics.OFFICE_STATUS: self.offices}
        with Publisher(self.bootstrap_servers, topic_map=mapping) as publisher:
            results = publisher.publish_batch(events)
        refused = [r for r in results if not isinstance(r, Accepted)]
        assert not refused, refused[:3]

    def publish_paced(self, events: list[dict], per_second: float) -> threading.Thread:
        """Publish in the background at about `per_second` events/s (in chunks of a tenth of a second)."""

        def run() -> None:
            chunk = max(1, int(per_second / 10))
            for start in range(0, len(events), chunk):
                began = time.monotonic()
                self.publish(events[start:start + chunk])
                time.sleep(max(0.0, 0.1 - (time.monotonic() - began)))

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread

    def publish_raw(self, messages: list[tuple[bytes, bytes]], topic: str | None = None) -> None:
        with Publisher(self.bootstrap_servers) as publisher:
            for key, value in messages:
                publisher.send_raw(topic or self.cases, value, key, [])
            publisher.flush()

    # -- workers --------------------------------------------------------------------------------------------
    def start_worker(self) -> subprocess.Popen:
        log = (self.logs / f"worker-{len(self.workers)}.log").open("wb")
        proc = subprocess.Popen([str(VEIVISER), "worker", "router", "--loglevel", "info"], cwd=ROOT,
                                env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.workers.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen, how: signal.Signals = signal.SIGKILL) -> None:
        proc.send_signal(how)
        proc.wait(timeout=60)

    def stop_all(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.workers:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        shutil.rmtree(ROOT / ".run" / "streams" / self.group, ignore_errors=True)  # the workers' faust data dir

    def wait_log(self, index: int, text: str, timeout_s: float = 90) -> None:
        """Wait until worker `index` logged `text` (e.g. that it got partitions)."""
        path, deadline = self.logs / f"worker-{index}.log", time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if path.exists() and text in path.read_text(errors="replace"):
                return
            time.sleep(0.3)
        raise AssertionError(f"worker {index} did not log {text!r} in {timeout_s} s:\n{self.log_tail()}")

    def cleanup(self) -> None:
        """Remove this run's rows from the shared database (the simulator's case ids carry the seed)."""
        like = f"sim{self.seed}-%"
        with psycopg2.connect(self.database_url) as conn, conn.cursor() as cur:
            cur.execute("DELETE FROM streams_processed_events WHERE consumer = %s", (self.group,))
            cur.execute("DELETE FROM streams_office_bookings WHERE consumer = %s", (self.group,))
            for table in ("streams_case_audit", "streams_decisions", "streams_case_state"):
                cur.execute(f"DELETE FROM {table} WHERE case_id LIKE %s", (like,))

    def log_tail(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(self.logs.glob("worker-*.log")))

    # -- what was stored ------------------------------------------------------------------------------------
    def query(self, statement: str, *args) -> list[tuple]:
        with psycopg2.connect(self.database_url) as conn, conn.cursor() as cur:
            cur.execute(statement, args)
            return cur.fetchall()

    def processed(self) -> int:
        return self.query("SELECT count(*) FROM streams_processed_events WHERE consumer = %s", self.group)[0][0]

    def wait_processed(self, count: int, timeout_s: float = 180, at_least: bool = False) -> int:
        deadline, done = time.monotonic() + timeout_s, 0
        while time.monotonic() < deadline:
            done = self.processed()
            if done >= count:
                return done
            if any(p.poll() not in (None, 0, -9, -15) for p in self.workers):
                raise AssertionError(f"a worker died:\n{self.log_tail()}")
            time.sleep(0.5)
        raise AssertionError(f"{done} of {count} events processed after {timeout_s} s:\n{self.log_tail()}")

    def read(self, topic: str, idle_ms: int = 3000) -> list:
        consumer = KafkaConsumer(topic, bootstrap_servers=self.bootstrap_servers, auto_offset_reset="earliest",
                                 consumer_timeout_ms=idle_ms)
        try:
            return list(consumer)
        finally:
            consumer.close()

    def audit(self, case_ids: list[str]) -> dict[str, list[tuple]]:
        rows = self.query("SELECT case_id, seq, entry, event_id::text, source_partition, source_offset, "
                          "detail->>'note' FROM streams_case_audit WHERE case_id = ANY(%s) ORDER BY case_id, seq",
                          case_ids)
        found = defaultdict(list)
        for row in rows:
            found[row[0]].append(row[1:])
        return found

    def decisions(self, case_ids: list[str]) -> list[tuple]:
        return self.query("SELECT case_id, decision_id::text, event_id::text, is_current, point_id, outcome FROM "
                          "streams_decisions WHERE case_id = ANY(%s)", case_ids)

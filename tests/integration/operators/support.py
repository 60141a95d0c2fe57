"""Helpers for the operator console's tests: dead letters written the way the stream agents write them."""

from __future__ import annotations

import json

import psycopg2
from kafka import KafkaConsumer, KafkaProducer

from events.problems import Problem
from services.operators import DeadLetterQueue, DeadLetterTopic, Store
from streams.stages import Handled, Origin, Outcome, dead_letter
from tests.unit.streams import factory

TOKENS = {"operator": "o" * 32, "privileged": "p" * 32, "viewer": "v" * 32}
TOKEN_TEXT = f"kari:operator={TOKENS['operator']},ola:privileged={TOKENS['privileged']},wall:viewer={TOKENS['viewer']}"


def bearer(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[role]}"}


def rejected_event(case_id: str) -> dict:
    """A case.opened with personal data (person ref, home coordinates) that validation rejected."""
    return factory.opened(case_id, where={"lat": 67.2811, "lon": 14.3977})


def send_dead_letters(bootstrap_servers: str, dlq: str, letters: list[tuple[bytes, Origin, Handled]]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap_servers, acks="all")
    try:
        for value, origin, handled in letters:
            out = dead_letter(handled, value, origin, "router", dlq)
            producer.send(out.topic, value=out.value, key=out.key, headers=list(out.headers)).get(timeout=30)
    finally:
        producer.close()


def rejection(path: str = "payload.services[0]", message: str = "is not one of the services") -> Handled:
    return Handled(Outcome.REJECTED, "validate", problems=(Problem(path, message, "use a listed service"),))


def poison(bootstrap_servers: str, dlq: str, origin_topic: str, case_id: str, offset: int = 7,
           handled: Handled | None = None) -> dict:
    event = rejected_event(case_id)
    send_dead_letters(bootstrap_servers, dlq, [(json.dumps(event).encode(), Origin(origin_topic, 0, offset,
                                                                                    case_id.encode()),
                                                handled or rejection())])
    return event


def open_queue(bootstrap_servers: str, database_url: str, dlq: str, max_replays: int = 3) -> DeadLetterQueue:
    return DeadLetterQueue(Store(database_url), DeadLetterTopic(bootstrap_servers, dlq, timeout_s=15), max_replays)


def close_queue(queue: DeadLetterQueue, database_url: str) -> None:
    queue.topic.close()
    queue.store.close()
    forget(database_url, queue.name)


def forget(database_url: str, dlq: str) -> None:
    """Remove a test's rows from the shared database."""
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        for table in ("operators_audit", "operators_dead_letters", "operators_dead_letter_positions"):
            cur.execute(f"DELETE FROM {table} WHERE dl_topic = %s", (dlq,))


def read_topic(bootstrap_servers: str, topic: str, idle_ms: int = 3000) -> list:
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap_servers, auto_offset_reset="earliest",
                             consumer_timeout_ms=idle_ms, enable_auto_commit=False, group_id=None)
    try:
        return list(consumer)
    finally:
        consumer.close()


class RunningConsole:
    """The console from `services.operators.build` served by uvicorn in a thread on a free port."""

    def __init__(self, settings, operators, health_settings=None):
        import socket
        import threading

        import uvicorn

        from services.operators import build

        self.app, self._close = build(settings, operators, health_settings)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        _wait(lambda: self.server.started, 30, "the console did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str, role: str = "operator", **params):
        import httpx

        return httpx.get(self.url + path, headers=bearer(role), params=params, timeout=30)

    def post(self, path: str, body: dict, role: str = "operator"):
        import httpx

        return httpx.post(self.url + path, headers=bearer(role), json=body, timeout=60)

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)
        self._close()


def _wait(condition, timeout_s: float, message: str):
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"{message} within {timeout_s} s")


wait_for = _wait

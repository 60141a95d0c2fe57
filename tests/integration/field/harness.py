"""The field app wired to the real stack for tests: a private visit-events topic, real PostgreSQL."""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from events.publisher import Publisher
from events.topics import VISIT_EVENTS
from services.field import Actions, FieldService, Metrics, Store, create_app

__all__ = ["Field", "field_app", "serve"]

PRODUCER = "veiviser-field"


class Field:
    """The pieces of one test's field app: tokens of two workers, the topic, the app."""

    def __init__(self, bootstrap_servers: str, database_url: str, topic: str, workers: list[str],
                 timeout_s: float = 30.0, **producer_config):
        self.tokens = {secrets.token_hex(16): worker for worker in workers}
        self.token_of = {worker: token for token, worker in self.tokens.items()}
        self.topic = topic
        self.publisher = Publisher(bootstrap_servers, producing_system=PRODUCER, topic_map={VISIT_EVENTS: topic},
                                   timeout_s=timeout_s, **producer_config)
        self.store = Store(database_url)
        self.metrics = Metrics()
        service = FieldService(database_url, self.store, Actions(self.store, self.publisher, PRODUCER))
        self.app = create_app(service, self.tokens, self.metrics)

    def headers(self, worker: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token_of[worker]}"}

    def close(self) -> None:
        self.publisher.close()
        self.store.close()


@contextmanager
def field_app(bootstrap_servers: str, database_url: str, topic: str, workers: list[str],
              **options) -> Iterator[Field]:
    field = Field(bootstrap_servers, database_url, topic, workers, **options)
    try:
        yield field
    finally:
        field.close()


@contextmanager
def serve(app) -> Iterator[str]:
    """The app on a real uvicorn server in a thread; yields its base URL."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(f"{url}/v1/health", timeout=1).raise_for_status()
            break
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise RuntimeError("the field server did not start within 20 s") from None
            time.sleep(0.1)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(10)

"""The intake as a real uvicorn server in a child process (for `veiviser bench publish` and e2e tests)."""

from __future__ import annotations

import json
import multiprocessing
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

CLIENTS = 4  # office systems posting at the same time

__all__ = ["IntakeProcess"]


def _serve(bootstrap: str, database_url: str, topic_map: dict, tokens: dict, port: int) -> None:
    import uvicorn

    from events.publisher import Publisher
    from services.intake.app import create_app
    from services.intake.core import Intake
    from services.intake.deadletters import DeadLetters
    from services.intake.receipts import Receipts

    publisher = Publisher(bootstrap, topic_map=topic_map)
    intake = Intake(publisher, Receipts(database_url), DeadLetters(publisher, topic_map["veiviser.dead-letter.v1"]))
    uvicorn.run(create_app(intake, tokens, 64 * 1024 * 1024), host="127.0.0.1", port=port, log_level="warning")


class IntakeProcess:
    def __init__(self, where: Any, topic_map: dict, tokens: dict, port: int):
        self.url = f"http://127.0.0.1:{port}"
        context = multiprocessing.get_context("spawn")
        self.process = context.Process(target=_serve, daemon=True,
                                       args=(where.bootstrap_servers, where.database_url, topic_map, tokens, port))

    def __enter__(self) -> IntakeProcess:
        import httpx

        self.process.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/v1/health", timeout=1).raise_for_status()
                return self
            except httpx.HTTPError:
                time.sleep(0.2)
        self.__exit__()
        raise RuntimeError("the intake server did not start within 30 s")

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.join(10)

    def post_all(self, events: list[dict], token: str, batch_size: int) -> float:
        """Post the events in batches; return the seconds it took. Raises when a batch is not accepted."""
        import httpx

        bodies = [json.dumps({"events": events[i:i + batch_size]}).encode() for i in range(0, len(events), batch_size)]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        with httpx.Client(base_url=self.url, headers=headers, timeout=120) as client, \
                ThreadPoolExecutor(CLIENTS) as pool:
            started = time.perf_counter()
            for response in pool.map(lambda body: client.post("/v1/events/batch", content=body), bodies):
                if response.status_code != 202:
                    raise RuntimeError(f"intake answered {response.status_code}: {response.text[:500]}")
            return time.perf_counter() - started

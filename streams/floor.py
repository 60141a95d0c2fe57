"""The framework's floor for `veiviser bench pipeline`: one faust worker that consumes a topic through the
router's own batching path (streams.batches, faust's noack_take, manual acks) with an agent that does
nothing, so the benchmark can show what faust-streaming alone costs per message on this machine.

    python -m streams.floor BOOTSTRAP TOPIC GROUP COUNT DATA_DIR

prints one JSON line {"messages", "seconds", "cpu_s", "total"} and exits 0: "messages" were taken after the
first batch, in "seconds" from its arrival to the COUNT-th message; "total" counts the first batch too. Not a product command: the benchmark starts it on its private topics and group.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from streams.batches import process_stream
from streams.delivery import Summary
from streams.worker import faust_app

__all__ = ["Idle", "main"]

BATCH, WITHIN_S = 500, 0.01  # the router's defaults (streams.app.StreamSettings)


class Idle:
    """An agent that takes batches and does nothing with them; reports once `count` messages were seen. The
    clock starts when the first batch arrives, so the figures count the messages after it."""

    def __init__(self, count: int) -> None:
        self.count, self.seen, self.first, self.started = count, 0, 0, (0.0, 0.0)

    async def process(self, messages: list) -> Summary:
        if not self.seen:
            self.started, self.first = (time.perf_counter(), time.process_time()), len(messages)
        self.seen += len(messages)
        if self.seen >= self.count:
            self._report()
        return Summary({"ok": len(messages)})

    def _report(self) -> None:
        wall, cpu = time.perf_counter() - self.started[0], time.process_time() - self.started[1]
        print(json.dumps({"messages": self.seen - self.first, "seconds": wall, "cpu_s": cpu, "total": self.seen}),
              flush=True)
        os._exit(0)


def build(bootstrap_servers: str, topic: str, group: str, count: int, data_dir: str) -> Any:
    app = faust_app(group, bootstrap_servers, data_dir, replication_factor=1, session_timeout_s=30.0)
    idle = Idle(count)

    @app.agent(app.topic(topic, key_serializer="raw", value_serializer="raw"), name="floor", concurrency=1)
    async def consume(stream):
        await process_stream(idle, stream, BATCH, WITHIN_S)

    return app


def main(argv: list[str]) -> None:
    from faust.worker import Worker

    bootstrap_servers, topic, group, count, data_dir = argv
    app = build(bootstrap_servers, topic, group, int(count), data_dir)
    Worker(app, loglevel="warning", redirect_stdouts=False).execute_from_commandline()


if __name__ == "__main__":
    main(sys.argv[1:])

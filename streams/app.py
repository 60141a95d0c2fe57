"""The faust-streaming application of the router: `bootstrap` wires settings, topics, ledger and router.

    veiviser.case-events.v1 ──▶ agent "router" (concurrency 1) ──▶ veiviser.followups.v1   (key = case id)
                                     │        │                 └─▶ veiviser.dead-letter.v1 (origin in headers)
    veiviser.office-status.v1 ──▶ OfficeStatusTable (every worker reads all partitions) ──▶ geo.OfficeBoard
                              └─▶ agent "office-status" (in the group): bad status messages dead-lettered
                                     └──▶ PostgreSQL ledger (streams.ledger)

The router agent also reads veiviser.visit-events.v1 (keyed by case id, like the case events): visit events
change no routing, but each is kept in its case's audit trail.

The agent hands the router batches crash-only (streams.batches): faust takes the next messages while the
router works on a batch, and a batch's messages are acknowledged by hand after the ledger's database commit
and the follow-ups' delivery, so only then can their offsets be committed. The ledger runs in a thread.
Concurrency stays 1 (faust-streaming issue #606).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from events import topics
from geo.regions import editions
from geo.routing import default_router
from streams import worker
from streams.batches import process_stream
from streams.capacity import booking_changes
from streams.ledger import Ledger
from streams.offices import OfficeStatusTable
from streams.retry import Backoff
from streams.router import AGENT, RouterAgent, decider, placer
from streams.statuscheck import AGENT as STATUS_AGENT
from streams.statuscheck import StatusCheckAgent

__all__ = ["StreamSettings", "load_stream_settings", "Wiring", "bootstrap", "run_worker", "FOLLOWUPS", "CRASH_EXIT"]

log = logging.getLogger(__name__)
FOLLOWUPS = "veiviser.followups.v1"
CRASH_EXIT = worker.CRASH_EXIT
READY_WAIT_S = 60.0


class StreamSettings(worker.WorkerSettings):
    """Settings of a stream worker, from VEIVISER_STREAMS_* variables (defaults work out of the box)."""

    model_config = SettingsConfigDict(env_prefix="VEIVISER_STREAMS_", extra="ignore", frozen=True)

    group: str = Field(default="veiviser-router", pattern=r"^[A-Za-z0-9._-]{1,100}$",
                       description="faust app id = Kafka consumer group of the router workers")
    case_events_topic: str = Field(default=topics.CASE_EVENTS)
    visit_events_topic: str = Field(default=topics.VISIT_EVENTS,
                                    description="visit events, kept in each case's audit trail")
    office_status_topic: str = Field(default=topics.OFFICE_STATUS)
    followups_topic: str = Field(default=FOLLOWUPS)
    dead_letter_topic: str = Field(default=topics.DEAD_LETTER)
    batch_size: int = Field(default=500, ge=1, le=10_000, description="events per ledger transaction (max)")
    batch_within_s: float = Field(default=0.01, gt=0, le=10, description="longest wait to fill a batch")
    ledger_consumer: str = Field(default=AGENT, min_length=1, max_length=100,
                                 description="name under which the ledger records processed event ids")


def load_stream_settings() -> StreamSettings:
    """Read VEIVISER_STREAMS_* once; a bad value raises SettingsProblem naming the variable and the fix."""
    return worker.load(StreamSettings, "VEIVISER_STREAMS_", "stream worker")


@dataclass
class Wiring:
    app: Any  # faust.App
    settings: StreamSettings
    database_url: str
    ledger: Ledger
    offices: OfficeStatusTable
    agent: RouterAgent
    checker: StatusCheckAgent


def bootstrap(bootstrap_servers: str, database_url: str, data_dir: str,
              stream: StreamSettings | None = None) -> Wiring:
    """Build the router app: faust app, topics, office table, ledger, router agent. Starts nothing."""
    stream = stream or load_stream_settings()
    app = worker.faust_app(stream.group, bootstrap_servers, data_dir, stream.replication_factor,
                           stream.session_timeout_s)
    router = default_router()
    offices = OfficeStatusTable(bootstrap_servers, stream.office_status_topic, router.registry)
    ledger = Ledger(database_url, stream.ledger_consumer, decider(router, lambda: offices.board),
                    changes=lambda before, event: booking_changes(before, event, router.registry),
                    prepare=placer(router))
    agent = RouterAgent(ledger, worker.sender(app), followups_topic=stream.followups_topic,
                        dead_letter_topic=stream.dead_letter_topic,
                        backoff=Backoff(stream.retry_first_s, stream.retry_max_s))
    checker = StatusCheckAgent(router.registry, worker.sender(app), dead_letter_topic=stream.dead_letter_topic,
                               backoff=Backoff(stream.retry_first_s, stream.retry_max_s))
    wiring = Wiring(app, stream, database_url, ledger, offices, agent, checker)
    _register(wiring)
    return wiring


def _register(wiring: Wiring) -> None:
    app, stream = wiring.app, wiring.settings
    source = app.topic(stream.case_events_topic, stream.visit_events_topic, key_serializer="raw",
                       value_serializer="raw")  # both keyed by case id: one case's events stay in order

    @app.agent(source, name=AGENT, concurrency=1)
    async def route(events_stream):
        await _wait_ready(wiring.offices)
        await process_stream(wiring.agent, events_stream, stream.batch_size, stream.batch_within_s)

    statuses = app.topic(stream.office_status_topic, key_serializer="raw", value_serializer="raw")

    @app.agent(statuses, name=STATUS_AGENT, concurrency=1)
    async def check_status(status_stream):
        async for batch in status_stream.take_events(stream.batch_size, within=0.5):
            await worker.process_or_exit(wiring.checker, batch)

    app.task(wiring.offices.run)


async def _wait_ready(offices: OfficeStatusTable) -> None:
    try:
        await asyncio.wait_for(offices.ready.wait(), READY_WAIT_S)
    except TimeoutError:
        log.warning("office status not caught up after %.0f s: routing with what is known", READY_WAIT_S)


def run_worker(wiring: Wiring, loglevel: str = "warning") -> None:
    """Apply the migrations, then run the worker until stopped (SIGTERM/SIGINT stop it cleanly). The boundary
    editions are loaded before the first event (seconds of latency on it otherwise)."""
    worker.run(wiring.app, wiring.database_url, wiring.settings.metrics_port, loglevel, before=editions)

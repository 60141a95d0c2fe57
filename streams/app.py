"""The faust-streaming application of the router: `bootstrap` wires settings, topics, ledger and router.

    veiviser.case-events.v1 ──▶ agent "router" (concurrency 1) ──▶ veiviser.followups.v1   (key = case id)
                                     │        │                 └─▶ veiviser.dead-letter.v1 (origin in headers)
    veiviser.office-status.v1 ──▶ OfficeStatusTable (every worker reads all partitions) ──▶ geo.OfficeBoard
                              └─▶ agent "office-status" (in the group): bad status messages dead-lettered
                                     └──▶ PostgreSQL ledger (streams.ledger)

The router agent also reads veiviser.visit-events.v1 (keyed by case id, like the case events): visit events
change no routing, but each is kept in its case's audit trail.

The agent takes batches (`take_events`): faust acknowledges the batch's messages only after the body
returned, and commits only acknowledged offsets, so offsets are committed after the ledger's database
commit and the follow-ups' delivery. The body never raises for a bad message (every failure is an outcome
and dead-lettered); a transient failure retries inside the body. If the body itself breaks (a bug), the
worker exits at once WITHOUT acknowledging the batch (faust would acknowledge a raising agent's batch and
lose it): restart it and the batch is redelivered. When the worker is stopped mid-batch, the batch is
allowed to finish first (faust acknowledges it on the way out), or the worker exits without acknowledging.
The ledger runs in a thread, so faust fetches the next batch meanwhile. Concurrency stays 1 (faust-streaming
issue #606).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass
from typing import Any

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from events import topics
from geo.regions import editions
from geo.routing import default_router
from streams.capacity import booking_changes
from streams.delivery import REPLAY_HEADER
from streams.errors import SettingsProblem
from streams.ledger import Ledger
from streams.offices import OfficeStatusTable
from streams.retry import Backoff
from streams.router import AGENT, Message, RouterAgent, decider, placer
from streams.stages import Origin, Output
from streams.statuscheck import AGENT as STATUS_AGENT
from streams.statuscheck import StatusCheckAgent

__all__ = ["StreamSettings", "load_stream_settings", "Wiring", "bootstrap", "run_worker", "FOLLOWUPS", "CRASH_EXIT"]

log = logging.getLogger(__name__)
FOLLOWUPS = "veiviser.followups.v1"
CRASH_EXIT = 70
READY_WAIT_S = 60.0
FINISH_ON_STOP_S = 20.0


class StreamSettings(BaseSettings):
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
    batch_within_s: float = Field(default=0.05, gt=0, le=10, description="longest wait to fill a batch")
    retry_first_s: float = Field(default=0.2, gt=0)
    retry_max_s: float = Field(default=10.0, gt=0)
    replication_factor: int = Field(default=1, ge=1, le=3, description="of faust's internal topics")
    session_timeout_s: float = Field(default=30.0, ge=6, le=300,
                                     description="a killed worker's partitions move after this long")
    metrics_port: int | None = Field(default=None, ge=1024, le=65535)
    ledger_consumer: str = Field(default=AGENT, min_length=1, max_length=100,
                                 description="name under which the ledger records processed event ids")


def load_stream_settings() -> StreamSettings:
    """Read VEIVISER_STREAMS_* once; a bad value raises SettingsProblem naming the variable and the fix."""
    try:
        return StreamSettings()
    except ValidationError as exc:
        lines = [f"  VEIVISER_STREAMS_{'_'.join(map(str, e['loc'])).upper()}={e.get('input')!r}: {e['msg']}"
                 for e in exc.errors()]
        raise SettingsProblem("bad stream worker configuration:\n" + "\n".join(lines)
                              + "\nFix the variable or unset it for the default.") from None


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
    import faust

    stream = stream or load_stream_settings()
    app = faust.App(stream.group, broker=_brokers(bootstrap_servers), value_serializer="raw",
                    key_serializer="raw", web_enabled=False, datadir=data_dir, store="memory://",
                    consumer_auto_offset_reset="earliest", topic_replication_factor=stream.replication_factor,
                    topic_disable_leader=True, producer_acks=-1, stream_wait_empty=False,
                    broker_session_timeout=stream.session_timeout_s,
                    broker_heartbeat_interval=min(3.0, stream.session_timeout_s / 3))
    router = default_router()
    offices = OfficeStatusTable(bootstrap_servers, stream.office_status_topic, router.registry)
    ledger = Ledger(database_url, stream.ledger_consumer, decider(router, lambda: offices.board),
                    changes=lambda before, event: booking_changes(before, event, router.registry),
                    prepare=placer(router))
    agent = RouterAgent(ledger, _sender(app), followups_topic=stream.followups_topic,
                        dead_letter_topic=stream.dead_letter_topic,
                        backoff=Backoff(stream.retry_first_s, stream.retry_max_s))
    checker = StatusCheckAgent(router.registry, _sender(app), dead_letter_topic=stream.dead_letter_topic,
                               backoff=Backoff(stream.retry_first_s, stream.retry_max_s))
    wiring = Wiring(app, stream, database_url, ledger, offices, agent, checker)
    _register(wiring)
    return wiring


def _brokers(bootstrap_servers: str) -> list[str]:
    return [f"kafka://{server.strip()}" for server in bootstrap_servers.split(",")]


def _register(wiring: Wiring) -> None:
    app, stream = wiring.app, wiring.settings
    source = app.topic(stream.case_events_topic, stream.visit_events_topic, key_serializer="raw",
                       value_serializer="raw")  # both keyed by case id: one case's events stay in order

    @app.agent(source, name=AGENT, concurrency=1)
    async def route(events_stream):
        await _wait_ready(wiring.offices)
        async for batch in events_stream.take_events(stream.batch_size, within=stream.batch_within_s):
            await _process_or_exit(wiring.agent, batch)

    statuses = app.topic(stream.office_status_topic, key_serializer="raw", value_serializer="raw")

    @app.agent(statuses, name=STATUS_AGENT, concurrency=1)
    async def check_status(status_stream):
        async for batch in status_stream.take_events(stream.batch_size, within=0.5):
            await _process_or_exit(wiring.checker, batch)

    app.task(wiring.offices.run)


async def _wait_ready(offices: OfficeStatusTable) -> None:
    try:
        await asyncio.wait_for(offices.ready.wait(), READY_WAIT_S)
    except TimeoutError:
        log.warning("office status not caught up after %.0f s: routing with what is known", READY_WAIT_S)


async def _process_or_exit(agent: RouterAgent | StatusCheckAgent, batch: list) -> None:
    messages = [Message(e.message.value, Origin(e.message.topic, e.message.partition, e.message.offset,
                                                e.message.key), _replayed(e.message.headers), e.message.timestamp)
                for e in batch]
    started = time.perf_counter()
    task = asyncio.ensure_future(agent.process(messages))
    try:
        summary = await asyncio.shield(task)
    except asyncio.CancelledError:
        await _finish_or_exit(task)  # the worker is stopping: faust acks this batch once we re-raise
        raise
    except BaseException:  # noqa: BLE001 - crash-only: never let faust acknowledge an unprocessed batch
        _exit(agent, "the batch could not be processed")
    elapsed_ms = (time.perf_counter() - started) * 1000
    log.info("%s batch of %d in %.0f ms: %s", type(agent).__name__, len(messages), elapsed_ms, summary.outcomes)


def _replayed(headers: Any) -> bool:
    """Whether an operator replayed the message from the dead-letter topic (a header names the letter)."""
    pairs = headers.items() if isinstance(headers, dict) else (headers or ())
    return any(key == REPLAY_HEADER for key, _value in pairs)


async def _finish_or_exit(task: asyncio.Future) -> None:
    """Let a batch being processed finish (stored and sent) before faust acknowledges it on stop; when it
    cannot finish in time (the database is away), exit without acknowledging: the batch is redelivered."""
    try:
        await asyncio.wait_for(task, FINISH_ON_STOP_S)
    except BaseException:  # noqa: BLE001 - anything but a finished batch: do not let faust ack it
        _exit(task, f"stopping, and the batch did not finish within {FINISH_ON_STOP_S:.0f} s")


def _exit(what: Any, why: str) -> None:
    log.critical("%s: %s; exiting without acknowledging it", type(what).__name__, why, exc_info=True)
    logging.shutdown()
    os._exit(CRASH_EXIT)


def _sender(app: Any):
    async def send(outputs: list[Output]) -> None:
        pending = [await app.producer.send(o.topic, o.key, o.value, None, None, list(o.headers)) for o in outputs]
        if pending:
            await asyncio.gather(*pending)

    return send


def run_worker(wiring: Wiring, loglevel: str = "warning") -> None:
    """Apply the migrations, then run the worker until stopped (SIGTERM/SIGINT stop it cleanly)."""
    from faust.worker import Worker

    from infra.migrations import apply_migrations

    apply_migrations(wiring.database_url)
    editions()  # load the boundary editions now, not on the first event (seconds of latency otherwise)
    if wiring.settings.metrics_port:
        from prometheus_client import start_http_server

        start_http_server(wiring.settings.metrics_port)
    Worker(wiring.app, loglevel=loglevel, redirect_stdouts=False).execute_from_commandline()

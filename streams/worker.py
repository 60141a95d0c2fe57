"""What every faust worker of the project shares: the app, batches handed to an agent crash-only, sending,
and running (migrations first, metrics served). streams.app (router) and streams.planner_app use it.

Batches: faust acknowledges a batch's messages only after the agent body returned, and commits only
acknowledged offsets, so offsets are committed after the agent stored and sent what the batch caused. The
body never raises for a bad message (every failure is an outcome and dead-lettered); a transient failure
retries inside the body. If the body itself breaks (a bug), the worker exits at once WITHOUT acknowledging
the batch (faust would acknowledge a raising agent's batch and lose it): restarted, the batch is
redelivered. When the worker is stopped mid-batch, the batch may finish first (faust acknowledges it on the
way out), or the worker exits without acknowledging. Concurrency stays 1 (faust-streaming issue #606).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings

from streams.delivery import REPLAY_HEADER, Message, Summary
from streams.errors import SettingsProblem
from streams.stages import Origin, Output

__all__ = ["WorkerSettings", "faust_app", "process_or_exit", "sender", "run", "load", "exit_unacknowledged", "CRASH_EXIT",
           "FINISH_ON_STOP_S"]

log = logging.getLogger(__name__)
CRASH_EXIT = 70
# A batch's outputs are sent together and awaited together: a few ms of linger and larger record batches
# put them in a few produce requests instead of many small ones (the worker's socket writes were ~9% of CPU).
PRODUCER_LINGER_S = 0.005
PRODUCER_BATCH_BYTES = 256 * 1024
GC_THRESHOLD = 20_000  # allocations between young collections (Python's default: 700)
LONG_COLLECTION_MS = 20.0
FINISH_ON_STOP_S = 20.0
S = TypeVar("S", bound=BaseSettings)


class WorkerSettings(BaseSettings):
    """The settings every faust worker has; each worker's class adds its own and its VEIVISER_<NAME>_ prefix."""

    retry_first_s: float = Field(default=0.2, gt=0, description="first wait before a transient failure is retried")
    retry_max_s: float = Field(default=10.0, gt=0, description="longest wait between retries")
    replication_factor: int = Field(default=1, ge=1, le=3, description="of faust's internal topics")
    session_timeout_s: float = Field(default=30.0, ge=6, le=300,
                                     description="a killed worker's partitions move after this long")
    metrics_port: int | None = Field(default=None, ge=1024, le=65535, description="serves /metrics when set")


class Agent(Protocol):
    async def process(self, messages: list[Message]) -> Summary: ...


def load(settings_class: type[S], prefix: str, what: str) -> S:
    """Read a worker's settings once; a bad value raises SettingsProblem naming the variable and the fix."""
    try:
        return settings_class()
    except ValidationError as exc:
        lines = [f"  {prefix}{'_'.join(map(str, e['loc'])).upper()}={e.get('input')!r}: {e['msg']}"
                 for e in exc.errors()]
        raise SettingsProblem(f"bad {what} configuration:\n" + "\n".join(lines)
                              + "\nFix the variable or unset it for the default.") from None


def faust_app(group: str, bootstrap_servers: str, data_dir: str, replication_factor: int,
              session_timeout_s: float) -> Any:
    """A faust app on raw bytes: consumer group `group`, acks=all, no web server, no leader topic."""
    import faust

    brokers = [f"kafka://{server.strip()}" for server in bootstrap_servers.split(",")]
    return faust.App(group, broker=brokers, value_serializer="raw", key_serializer="raw", web_enabled=False,
                     datadir=data_dir, store="memory://", consumer_auto_offset_reset="earliest",
                     topic_replication_factor=replication_factor, topic_disable_leader=True, producer_acks=-1,
                     stream_wait_empty=False, broker_session_timeout=session_timeout_s,
                     broker_heartbeat_interval=min(3.0, session_timeout_s / 3),
                     producer_linger=PRODUCER_LINGER_S, producer_max_batch_size=PRODUCER_BATCH_BYTES)


async def process_or_exit(agent: Agent, batch: list) -> None:
    """Hand one faust batch to the agent; never let faust acknowledge a batch that was not processed."""
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
        exit_unacknowledged(agent, "the batch could not be processed")
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
        exit_unacknowledged(task, f"stopping, and the batch did not finish within {FINISH_ON_STOP_S:.0f} s")


def exit_unacknowledged(what: Any, why: str) -> None:
    """Crash-only: log why and exit at once (CRASH_EXIT), so faust can acknowledge nothing more."""
    log.critical("%s: %s; exiting without acknowledging it", type(what).__name__, why, exc_info=True)
    logging.shutdown()
    os._exit(CRASH_EXIT)


def _settle_garbage_collector() -> None:
    """What is loaded at start (geo data, schemas, faust) lives as long as the worker: move it out of the
    collector's view, and collect less often, so full collections do not pause a batch for ~100 ms."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, 20, 20)
    gc.callbacks.append(_log_long_collections)


_collection_started: list[float] = [0.0]


def _log_long_collections(phase: str, info: dict) -> None:
    """A collection that held the worker up noticeably is logged (it shows in the latency tail)."""
    if phase == "start":
        _collection_started[0] = time.perf_counter()
        return
    paused_ms = (time.perf_counter() - _collection_started[0]) * 1000
    if paused_ms >= LONG_COLLECTION_MS:
        log.warning("garbage collection of generation %d paused the worker for %.0f ms (%d collected)",
                    info.get("generation", -1), paused_ms, info.get("collected", 0))


def sender(app: Any):
    """Send outputs with the app's producer and wait until Kafka acknowledged every one."""
    async def send(outputs: list[Output]) -> None:
        pending = [await app.producer.send(o.topic, o.key, o.value, None, None, list(o.headers)) for o in outputs]
        if pending:
            await asyncio.gather(*pending)

    return send


def run(app: Any, database_url: str, metrics_port: int | None, loglevel: str = "warning",
        before: Callable[[], None] | None = None) -> None:
    """Apply the migrations, call `before`, serve metrics, then run the worker until stopped (SIGTERM/SIGINT
    stop it cleanly)."""
    from faust.worker import Worker

    from infra.migrations import apply_migrations

    apply_migrations(database_url)
    if before is not None:
        before()
    _settle_garbage_collector()
    if metrics_port:
        from prometheus_client import start_http_server

        start_http_server(metrics_port)
    Worker(app, loglevel=loglevel, redirect_stdouts=False).execute_from_commandline()

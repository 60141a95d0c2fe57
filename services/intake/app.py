"""The HTTP intake for office systems that cannot speak Kafka (FastAPI).

    POST /v1/events         one event (a JSON object)           -> 202 {"accepted": [...]}
    POST /v1/events/batch   {"events": [event, ...]}            -> 202, or 422 with problems per event
    GET  /v1/health         liveness
    GET  /metrics           Prometheus metrics (services.intake.metrics; no token, no personal data)
    GET  /openapi.json      the OpenAPI document (/docs renders it)

Every request carries `Authorization: Bearer <token>`; the token names the system, and a system may only
publish events whose producing_system is itself (403 otherwise). Bodies over the size limit get 413
before they are read. Whatever is rejected after it was read is kept on the dead-letter topic.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

import psycopg2
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from kafka.errors import KafkaError
from pydantic import BaseModel

from events import contract
from events.errors import EventsError
from services.intake.core import Intake, Outcome
from services.intake.metrics import CONTENT_TYPE_LATEST, IntakeMetrics

__all__ = ["create_app"]

log = logging.getLogger("veiviser.intake")
UNAVAILABLE = (psycopg2.Error, KafkaError, EventsError, OSError)


class Accepted(BaseModel):
    event_id: str
    topic: str
    partition: int
    offset: int
    duplicate: bool


class AcceptedBody(BaseModel):
    accepted: list[Accepted]


class ProblemItem(BaseModel):
    path: str
    message: str
    fix: str


class RejectedEvent(BaseModel):
    index: int | None
    problems: list[ProblemItem]


class RejectedBody(BaseModel):
    error: str
    rejected: list[RejectedEvent]
    not_published: list[int]


class ErrorBody(BaseModel):
    error: str


RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"model": AcceptedBody, "description": "Published (or already published: duplicate=true)."},
    401: {"model": ErrorBody, "description": "No or unknown bearer token."},
    403: {"model": RejectedBody, "description": "producing_system is not the token's system."},
    413: {"model": ErrorBody, "description": "The body is larger than the limit."},
    422: {"model": RejectedBody, "description": "Rejected: every problem, with field path and fix."},
    503: {"model": ErrorBody, "description": "Broker or database unavailable; nothing lost, send again."},
}


def _body_schema(batch: bool) -> dict[str, Any]:
    event = {"oneOf": [contract.standalone(name) for name in contract.event_names()]}
    schema = {"type": "object", "required": ["events"], "properties": {"events": {"type": "array",
              "items": event}}} if batch else event
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def create_app(intake: Intake, tokens: dict[str, str], max_body_bytes: int,
               metrics: IntakeMetrics | None = None) -> FastAPI:
    """The intake app: `tokens` maps bearer token -> producing system."""
    metrics = metrics if metrics is not None else IntakeMetrics()
    app = FastAPI(title="Veiviser intake", version="1",
                  description="Publish case, appointment, office and field events from office systems. "
                  "The event contract is the JSON Schemas in events/schemas.")
    app.state.metrics = metrics
    app.middleware("http")(metrics.middleware)

    async def handle(request: Request, batch: bool) -> JSONResponse:
        system = _system(request, tokens)
        if system is None:
            return _json(Outcome(401, {"error": "send 'Authorization: Bearer <token>' with your system's token"},
                                 {"WWW-Authenticate": "Bearer"}))
        raw = await _read(request, max_body_bytes)
        if raw is None:
            return _json(Outcome(413, {"error": f"the body is larger than {max_body_bytes} bytes; "
                                       "send smaller batches"}))
        try:
            outcome = await run_in_threadpool(intake.submit, system, raw, batch, request.url.path)
        except UNAVAILABLE as exc:  # the database or the broker is down: nothing was accepted
            log.warning("intake unavailable: %s: %s", type(exc).__name__, exc)
            outcome = Outcome(503, {"error": f"the intake cannot reach its database or broker ({type(exc).__name__})"
                                    "; nothing was published. Send the same request again later."},
                              {"Retry-After": "5"})
        metrics.count_events(outcome.status, outcome.body)
        return _json(outcome)

    @app.post("/v1/events", status_code=202, responses=RESPONSES, openapi_extra=_body_schema(False),
              summary="Publish one event")
    async def post_event(request: Request) -> JSONResponse:
        return await handle(request, batch=False)

    @app.post("/v1/events/batch", status_code=202, responses=RESPONSES, openapi_extra=_body_schema(True),
              summary="Publish a batch of events (all or nothing)")
    async def post_batch(request: Request) -> JSONResponse:
        return await handle(request, batch=True)

    @app.get("/v1/health", summary="Liveness")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    return app


def _system(request: Request, tokens: dict[str, str]) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    found = None
    for known, system in tokens.items():  # compare with every token in constant time
        if hmac.compare_digest(known.encode(), token.strip().encode()):
            found = system
    return found


async def _read(request: Request, limit: int) -> bytes | None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _json(outcome: Outcome) -> JSONResponse:
    return JSONResponse(outcome.body, status_code=outcome.status, headers=outcome.headers)

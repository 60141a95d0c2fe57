"""The field staff service (FastAPI): a worker's day route, actions on its stops, and the page they work from.

    GET  /, /sw.js                                                  the page and its service worker (static files)
    GET  /v1/me                                                     the token's worker and the failure reasons
    GET  /v1/workers/{worker_id}/routes/{day}                       the worker's route of a day (YYYY-MM-DD)
    POST /v1/workers/{worker_id}/routes/{day}/visits/{visit_id}/{action}   start | complete | fail
                                                                    (fail: body {"reason": ...})
    GET  /v1/outlines?day=YYYY-MM-DD                                municipality and BA-region outlines (GeoJSON)
    GET  /v1/health, /metrics                                       liveness, Prometheus metrics

Every /v1/workers request carries `Authorization: Bearer <token>`; a token is one worker's, and reads or acts
on that worker's route only (403 otherwise). Errors are JSON {"error": what was wrong, "fix": what to do}.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from services.field.actions import failure_reasons
from services.field.auth import worker_of
from services.field.errors import ActionConflict, BadAction, FieldError, NotAuthenticated, Unavailable
from services.field.metrics import CONTENT_TYPE_LATEST, Metrics
from services.field.outlines import outlines_json
from services.field.service import FieldService, parse_day

__all__ = ["create_app", "STATIC"]

log = logging.getLogger("veiviser.field")
STATIC = Path(__file__).parent / "static"
MAX_BODY = 4096
OUTCOME_OF = {ActionConflict: "conflict", BadAction: "rejected", Unavailable: "unavailable"}


class ErrorBody(BaseModel):
    error: str
    fix: str


RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "No or unknown bearer token."},
    403: {"model": ErrorBody, "description": "Another worker's route or visit."},
    404: {"model": ErrorBody, "description": "No such visit on the route."},
    409: {"model": ErrorBody, "description": "The visit already has another outcome."},
    422: {"model": ErrorBody, "description": "Bad day, visit id, action or reason."},
    503: {"model": ErrorBody, "description": "Database or broker unavailable; nothing lost, try again."},
}


def create_app(service: FieldService, tokens: dict[str, str], metrics: Metrics | None = None) -> FastAPI:
    """The field app: `tokens` maps bearer token -> worker id."""
    metrics = metrics or Metrics()
    app = FastAPI(title="Veiviser field staff", version="1",
                  description="A field worker's planned day route and the actions on its stops.")
    app.middleware("http")(metrics.middleware)
    app.add_middleware(GZipMiddleware, minimum_size=2048)
    app.exception_handler(FieldError)(_field_error)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/sw.js", include_in_schema=False)
    async def service_worker() -> FileResponse:
        return FileResponse(STATIC / "sw.js", media_type="text/javascript", headers={"Cache-Control": "no-cache"})

    @app.get("/v1/me", responses=RESPONSES, summary="The token's worker and the reasons a visit can fail")
    async def me(request: Request) -> dict[str, Any]:
        return {"worker_id": _worker(request, tokens), "failure_reasons": list(failure_reasons())}

    @app.get("/v1/workers/{worker_id}/routes/{day}", responses=RESPONSES, summary="A worker's route of a day")
    async def route(worker_id: str, day: str, request: Request) -> dict[str, Any]:
        worker = _worker(request, tokens)
        return await run_in_threadpool(service.route, worker, worker_id, day)

    @app.post("/v1/workers/{worker_id}/routes/{day}/visits/{visit_id}/{action}", responses=RESPONSES,
              summary="Start, complete or fail (could not meet) a visit")
    async def act(worker_id: str, day: str, visit_id: str, action: str, request: Request) -> JSONResponse:
        worker = _worker(request, tokens)
        reason = _reason(await _body(request))
        try:
            result = await run_in_threadpool(service.act, worker, worker_id, day, visit_id, action, reason)
        except FieldError as exc:
            metrics.action(action if action in ("start", "complete", "fail") else "other",
                           OUTCOME_OF.get(type(exc), "refused"))
            raise
        metrics.action(action, "duplicate" if result.duplicate else "published")
        return JSONResponse(result.body(), status_code=200 if result.duplicate else 201)

    @app.get("/v1/outlines", summary="Municipality and BA-region outlines (GeoJSON) for the map")
    async def get_outlines(day: str | None = None) -> Response:
        when = parse_day(day) if day else date.today()
        body = await run_in_threadpool(outlines_json, when)
        return Response(body, media_type="application/json", headers={"Cache-Control": "max-age=86400"})

    @app.get("/v1/health", summary="Liveness")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    return app


def _worker(request: Request, tokens: dict[str, str]) -> str:
    return worker_of(request.headers.get("authorization", ""), tokens)


async def _body(request: Request) -> Any:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise BadAction(f"the body is {len(raw)} bytes", f"send at most {MAX_BODY} bytes: {{\"reason\": ...}}")
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        raise BadAction("the body is not JSON", "send a JSON object such as {\"reason\": \"not_at_home\"}, "
                        "or no body") from None


def _reason(body: Any) -> str | None:
    if not isinstance(body, dict) or set(body) - {"reason"}:
        raise BadAction(f"unexpected body {str(body)[:80]!r}", "send {\"reason\": \"...\"} (only for 'fail') or "
                        "no body")
    reason = body.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise BadAction("'reason' is not a string", f"use one of: {', '.join(failure_reasons())}")
    return reason


async def _field_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FieldError)
    if isinstance(exc, Unavailable):
        log.warning("field service unavailable: %s", exc)
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, NotAuthenticated) else None
    if isinstance(exc, Unavailable):
        headers = {"Retry-After": "5"}
    return JSONResponse(exc.body(), status_code=exc.status, headers=headers)

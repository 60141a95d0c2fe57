"""The operator console (FastAPI): a live dashboard and the dead-letter queue.

    GET  /                                the dashboard (static HTML/JS/CSS from the package; works offline)
    GET  /v1/health                       liveness (no token)
    GET  /metrics                         Prometheus metrics (no token): the console's and the health gauges
    GET  /api/me                          who the token is                              viewer
    GET  /api/snapshot                    newest health report and dead-letter counts   viewer
    GET  /api/deadletters                 browse: origin, stage, reason, text, status, since, until, limit, offset
    GET  /api/deadletters/{p}/{o}         one dead letter with its value (masked; ?unmasked=true: privileged)
    POST /api/deadletters/replay          {"refs": ["0:12", ...], "why": "...", "force": false}
    POST /api/deadletters/discard         {"refs": [...], "why": "...", "force": false}
    GET  /api/audit                       the newest operator actions
The dead-letter endpoints need the operator role (403 otherwise); every request carries
`Authorization: Bearer <token>` (VEIVISER_OPERATORS_TOKENS). Errors are JSON {"error": what was wrong, "fix":
what to do} (like the field service), for the API's own refusals (401, 403, 404, 409, 422, 503) and FastAPI's
(a bad parameter also lists its "problems"); a replay or discard of several answers per dead letter instead.
"""

import hmac
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import psycopg2
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from kafka.errors import KafkaError
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.operators import metrics
from services.operators.deadletters import parse_ref
from services.operators.errors import ActionRefused, DeadLetterNotFound, OperatorsError
from services.operators.monitor import Monitor
from services.operators.queue import DeadLetterQueue
from services.operators.settings import Caller
from services.operators.store import Filter

__all__ = ["create_app", "STATIC"]

STATIC = Path(__file__).parent / "static"
UNAVAILABLE = (psycopg2.Error, KafkaError, OSError)
STATUSES = ("open", "replayed", "discarded")
STATUS_OF = {DeadLetterNotFound: 404, ActionRefused: 409}
FIX_OF_STATUS = {401: "send 'Authorization: Bearer <token>' with a token of VEIVISER_OPERATORS_TOKENS",
                 403: "use a token with the role the endpoint needs (VEIVISER_OPERATORS_TOKENS)",
                 404: "check the path against the API's documentation at /docs",
                 405: "check the method against the API's documentation at /docs"}


class Action(BaseModel):
    refs: list[str] = Field(min_length=1, max_length=1000, description="PARTITION:OFFSET of each dead letter")
    why: str = Field(default="", max_length=2000, description="Why (kept in the audit; required to discard)")
    force: bool = Field(default=False, description="Replay again / replay a discarded or looping one")


def create_app(queue: DeadLetterQueue, monitor: Monitor, callers: dict[str, Caller],
               registries: tuple[CollectorRegistry, ...] = ()) -> FastAPI:
    """The console app: `callers` maps bearer token -> Caller (name, role); /metrics serves the default
    registry and `registries` (build() passes the health gauges' own)."""
    app = FastAPI(title="Veiviser operator console", version="1",
                  description="Stream health and the dead-letter queue for operators.")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    Viewer = Annotated[Caller, Depends(_needs(callers, "viewer"))]  # noqa: N806 - type aliases
    Operator = Annotated[Caller, Depends(_needs(callers, "operator"))]  # noqa: N806

    @app.middleware("http")
    async def timed(request: Request, call_next):
        began = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        metrics.REQUESTS.labels(getattr(route, "path", "unmatched"), str(response.status_code)).observe(
            time.perf_counter() - began)
        return response

    app.add_exception_handler(OperatorsError, _operators_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    for kind in UNAVAILABLE:
        app.add_exception_handler(kind, _unavailable)

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    @app.get("/v1/health", summary="Liveness")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        return Response(b"".join(generate_latest(r) for r in (REGISTRY, *registries)), media_type=CONTENT_TYPE_LATEST)

    @app.get("/api/me", summary="Who the token belongs to")
    async def me(caller: Viewer) -> dict[str, Any]:
        return {"name": caller.name, "role": caller.role, "operator": caller.may("operator"),
                "privileged": caller.privileged}

    @app.get("/api/snapshot", summary="The newest health report and dead-letter counts")
    async def snapshot(caller: Viewer) -> dict[str, Any]:
        return {**monitor.snapshot(), "interval_s": monitor.interval_s}

    @app.get("/api/deadletters", summary="Browse dead letters (newest first)")
    async def browse(caller: Operator, origin: str | None = None, stage: str | None = None, reason: str | None = None,
                     text: str | None = None, status: str | None = Query(None, pattern="^(open|replayed|discarded)$"),
                     since: datetime | None = None, until: datetime | None = None,
                     limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0)) -> dict[str, Any]:
        where = Filter(origin or None, stage or None, reason or None, text or None, status, since, until)
        total, items = await run_in_threadpool(queue.search, where, limit, offset)
        return {"topic": queue.name, "total": total, "items": [_listed(i) for i in items]}

    @app.get("/api/deadletters/{partition}/{offset}", summary="One dead letter with its value")
    async def view(partition: int, offset: int, caller: Operator, unmasked: bool = False) -> dict[str, Any]:
        if unmasked and not caller.privileged:
            raise _refusal(403, f"{caller.name} ({caller.role}) may not see personal data; that needs the "
                                "privileged role", "ask without ?unmasked=true, or use a token with :privileged")
        return await run_in_threadpool(queue.view, queue.ref(partition, offset), caller, unmasked)

    @app.post("/api/deadletters/replay", summary="Replay dead letters to their original topic")
    async def replay(body: Action, caller: Operator) -> JSONResponse:
        refs = _refs(body.refs, queue.name)
        done = await run_in_threadpool(queue.replay, refs, caller, body.why, body.force)
        return _results(done)

    @app.post("/api/deadletters/discard", summary="Discard dead letters (audited)")
    async def discard(body: Action, caller: Operator) -> JSONResponse:
        refs = _refs(body.refs, queue.name)
        done = await run_in_threadpool(queue.discard, refs, caller, body.why, body.force)
        return _results(done)

    @app.get("/api/audit", summary="The newest operator actions")
    async def audit(caller: Operator, limit: int = Query(100, ge=1, le=1000)) -> dict[str, Any]:
        return {"items": await run_in_threadpool(queue.store.audit, queue.name, None, limit)}

    return app


def _needs(callers: dict[str, Caller], role: str):
    def dependency(request: Request) -> Caller:
        caller = _caller(request, callers)
        if caller is None:
            raise _refusal(401, "no token, or one the console does not know", FIX_OF_STATUS[401],
                           headers={"WWW-Authenticate": "Bearer"})
        if not caller.may(role):
            raise _refusal(403, f"{caller.name} has role {caller.role!r}; this needs the {role!r} role",
                           f"use a token of VEIVISER_OPERATORS_TOKENS with the {role!r} role or above")
        return caller

    return dependency


def _caller(request: Request, callers: dict[str, Caller]) -> Caller | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    found = None
    for known, caller in callers.items():  # compare with every token in constant time
        if hmac.compare_digest(known.encode(), token.strip().encode()):
            found = caller
    return found


def _refs(texts: list[str], topic: str):
    try:
        return [parse_ref(text, topic) for text in texts]
    except ValueError as exc:
        raise _refusal(422, str(exc), "name each dead letter as PARTITION:OFFSET, as GET /api/deadletters lists "
                       "them in 'ref'") from None


def _listed(item: dict[str, Any]) -> dict[str, Any]:
    return {**item, "ref": f"{item['dl_partition']}:{item['dl_offset']}"}


def _results(done) -> JSONResponse:
    results = [d.as_dict() for d in done]
    status = 200 if all(d.ok for d in done) else 409 if not any(d.ok for d in done) else 207
    return JSONResponse({"results": results, "done": sum(d.ok for d in done), "refused": sum(not d.ok for d in done)},
                        status_code=status)


def _refusal(status: int, error: str, fix: str, headers: dict[str, str] | None = None) -> HTTPException:
    return HTTPException(status, {"error": error, "fix": fix}, headers=headers)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    """{"error", "fix"} for the API's refusals and Starlette's own (an unknown path, a wrong method)."""
    assert isinstance(exc, StarletteHTTPException)
    body = exc.detail if isinstance(exc.detail, dict) else {
        "error": str(exc.detail), "fix": FIX_OF_STATUS.get(exc.status_code, "see the API's documentation at /docs")}
    return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))


async def _invalid(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = jsonable_encoder([{k: e[k] for k in ("loc", "msg", "type") if k in e} for e in exc.errors()])
    where = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in problems)
    return JSONResponse({"error": f"the request is not valid: {where}", "fix": "send the parameters and body the "
                         "API documents at /docs", "problems": problems}, status_code=422)


async def _operators_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OperatorsError)
    status = next((code for kind, code in STATUS_OF.items() if isinstance(exc, kind)), 409)
    return JSONResponse({"error": str(exc), "fix": exc.fix}, status_code=status)


async def _unavailable(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"error": f"the console cannot reach its database or broker ({type(exc).__name__}: {exc})",
                         "fix": "try again shortly; `veiviser status` shows whether the stack is up"},
                        status_code=503, headers={"Retry-After": "5"})

"""A service as the platform runs it: one descriptor (`Service`) per service, and the app built from it.

Each service declares `SERVICE = Service(...)` in services/<name>/main.py, next to the `create_app` the tests and
uvicorn's API workers call; `python -m services.<name> ...` hands it to libs/common/entry.py."""

from __future__ import annotations

import gc
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import sqlalchemy as sa
from fastapi import APIRouter, FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from libs.common import app as platform
from libs.common import gate, logs, metrics, telemetry
from libs.common.auth import TokenVerifier
from libs.common.bus import Handlers
from libs.common.db import READ_CONNECTIONS, Taken, engine_for, make_sessions, read_pool, statement_pool
from libs.common.http import PROBLEM_RESPONSES, install_error_handlers
from libs.common.scheduler import Job
from libs.common.settings import ServiceSettings
from libs.common.tables import PlatformTable


def no_jobs(_settings: Any) -> Sequence[Job]:
    return ()


@dataclass(frozen=True, kw_only=True)
class Service:
    """What the platform needs to know to run a service's API, worker, migrations and dead-letter commands."""

    name: str  # services/<name>/, the database and the topic `<name>.events` are named after it
    settings: type[ServiceSettings]  # read from the environment; api_port and worker_port are two of them
    title: str
    description: str
    metadata: sa.MetaData  # the MetaData of the service's table base: its own tables, not the platform's
    routers: Sequence[APIRouter] = ()
    handlers: Handlers = field(default_factory=dict)  # the worker's reactions to other services' events
    jobs: Callable[[Any], Sequence[Job]] = no_jobs  # the worker's scheduled jobs, built from the settings
    # The problem code of the 409 a unique constraint's violation answers, by constraint name (else `conflict`).
    unique_codes: Mapping[str, str] = field(default_factory=dict)
    # More app.state entries built from the settings, e.g. {"store": make_store(settings)} for uploads.
    state: Callable[[Any], Mapping[str, Any]] | None = None

    @property
    def app_factory(self) -> str:
        """Where uvicorn's API worker processes find create_app (they import it afresh)."""
        return f"services.{self.name}.main:create_app"

    def all_metadata(self) -> list[sa.MetaData]:
        return [PlatformTable.metadata, self.metadata]


def create_app(
    service: Service, settings: ServiceSettings | None = None, *, engine: AsyncEngine | None = None
) -> FastAPI:
    """The service's FastAPI app: errors as problem+json, bearer auth, /health /ready /metrics, offline docs, its
    routes. `engine` (tests pass theirs) else one sized by the settings; it is disposed of when the app stops."""
    settings = settings or service.settings()
    engine = engine or engine_for(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Everything alive now (modules, routes, schemas) lives as long as the process: the collector stops
        # rescanning it, which made each full collection a pause of tens of milliseconds under load.
        gc.freeze()
        await tokens.start()  # an OIDC issuer's keys: an unreachable issuer is logged, the app starts anyway
        yield
        await tokens.close()
        await statements.close()
        await engine.dispose()
        telemetry.flush()

    # FastAPI's own OpenTelemetry hooks look for configured providers on every request; we export Prometheus.
    app = FastAPI(
        title=service.title,
        description=service.description,
        version="1.0.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = make_sessions(engine)
    statements = statement_pool(
        engine,
        size=settings.db_statement_pool_size,
        timeout=settings.db_pool_timeout_seconds,
        ping_idle_seconds=settings.db_ping_idle_seconds,
    )
    app.state.statement_pool, app.state.read_pool = statements, read_pool(engine, statements)
    app.state.tokens = tokens = TokenVerifier(settings)
    for name, value in (service.state(settings) if service.state else {}).items():
        setattr(app.state, name, value)
    install_error_handlers(app, unique_codes=service.unique_codes, metadata=service.all_metadata())
    # Request ids, metrics, the gate and the read connections' lifetime, as one layer (PlatformMiddleware).
    app.add_middleware(PlatformMiddleware, service=settings.service_name)
    # Outermost: the client address everything after sees (the rate limiter's) is the proxy's word only when the
    # peer is a trusted proxy; uvicorn's own copy of this middleware is off (libs/common/entry.py).
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips)
    app.include_router(platform.platform_router(settings))
    for router in service.routers:
        app.include_router(router, responses=PROBLEM_RESPONSES)
    platform.offline_docs(app, service.title)
    platform.problem_schemas_on_every_error(app)
    if telemetry.configure(f"{settings.service_name}-api"):  # OTEL_EXPORTER_OTLP_ENDPOINT set (once per process)
        telemetry.instrument_app(app)
    return app


class PlatformMiddleware:
    """Pure ASGI, one layer for what every request needs, in this order: each request gets its id (its log lines and the
    X-Request-ID header), is counted and timed by route template and status, is refused on its headers before a body
    is read, and gives back the connections it took (DbRead, DbStatement) once it is answered. Four
    middlewares (request ids, metrics, the body gate, read connections) were four coroutines and three `send`
    wrappers per request, a twentieth of a by-id read's CPU; the metrics' series and the gate's per-route plans live
    in metrics.HttpMetrics and gate.RequestGate."""

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.metrics = metrics.HttpMetrics(service=service)  # its labelled series, looked up once per route
        self.gate = gate.RequestGate()  # its per-route plans

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = logs.request_id_of(cast(dict[str, Any], scope))  # it reads the headers only
        header = (b"x-request-id", request_id.encode())
        token = logs.REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500  # unless a response starts: an exception escaping the app becomes a 500 further out

        async def send_answer(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        taken: Taken = []
        scope[READ_CONNECTIONS] = taken
        if _has_body(scope):
            receive = gate.GatedBody(self.gate, scope, receive)
        failed = False
        try:
            try:
                await self.app(scope, receive, send_answer)
            except BaseException:
                failed = True  # a query may have been cut off (a cancelled request): its connection is not reused
                raise
            finally:
                for pool, connection in taken:
                    await pool.release(connection, failed=failed)
                # The router stores the matched route in the scope it was given, which is this one.
                template = getattr(scope.get("route"), "path", "unmatched")
                self.metrics.observe(scope["method"], template, status, time.perf_counter() - started)
        finally:
            logs.REQUEST_ID.reset(token)


def _has_body(scope: Scope) -> bool:
    """gate's test (a Transfer-Encoding, or a first Content-Length over 0), in one pass over the headers."""
    length = None
    for name, value in scope["headers"]:
        if name == b"transfer-encoding":
            return True
        if name == b"content-length" and length is None:
            length = value
    try:
        return length is not None and int(length) > 0
    except ValueError:
        return False

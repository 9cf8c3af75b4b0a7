"""The traceability service as the platform runs it (SERVICE), and create_app for tests and the API processes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common import ratelimit, service
from services.traceability import epcis, proofs
from services.traceability.api import public, routers
from services.traceability.handlers import HANDLERS
from services.traceability.jobs import jobs
from services.traceability.settings import TraceabilitySettings
from services.traceability.tables import TraceabilityTable


def app_state(settings: TraceabilitySettings) -> Mapping[str, Any]:
    return {"tag_limiter": ratelimit.RateLimiter(limit=settings.public_tag_rate_per_minute, window=60.0)}


SERVICE = service.Service(
    name="traceability",
    settings=TraceabilitySettings,
    title="Assay Traceability",
    description="Lots, custody, transformations, lineage and proofs for smelters.",
    routers=[*routers, proofs.router, epcis.router],
    handlers=HANDLERS,
    jobs=lambda settings: [*jobs(settings), *proofs.jobs(settings)],
    metadata=TraceabilityTable.metadata,
    state=app_state,
)


def create_app(settings: TraceabilitySettings | None = None, *, engine: AsyncEngine | None = None) -> FastAPI:
    ratelimit.hide_client_address([public.PUBLIC_PREFIX])  # anyone's tag check: no address in the access log
    return service.create_app(SERVICE, settings, engine=engine)

"""The traceability service as the platform runs it (SERVICE), and create_app for tests and the API processes."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common import service
from services.traceability import epcis, proofs
from services.traceability.api import routers
from services.traceability.handlers import HANDLERS
from services.traceability.jobs import jobs
from services.traceability.settings import TraceabilitySettings
from services.traceability.tables import TraceabilityTable

SERVICE = service.Service(
    name="traceability",
    settings=TraceabilitySettings,
    title="Assay Traceability",
    description="Lots, custody, transformations, lineage and proofs for smelters.",
    routers=[*routers, proofs.router, epcis.router],
    handlers=HANDLERS,
    jobs=lambda settings: [*jobs(settings), *proofs.jobs(settings)],
    metadata=TraceabilityTable.metadata,
)


def create_app(settings: TraceabilitySettings | None = None, *, engine: AsyncEngine | None = None) -> FastAPI:
    return service.create_app(SERVICE, settings, engine=engine)

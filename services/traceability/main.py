"""create_app(settings): the one place where settings, sessions and routers of the traceability service are wired."""
from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.app import create_service_app
from services.traceability import api
from services.traceability.settings import TraceabilitySettings

TITLE = "Assay Traceability"
DESCRIPTION = "Lots, custody, transformations, lineage and proofs for smelters."


def create_app(settings: TraceabilitySettings | None = None, *, engine: AsyncEngine | None = None) -> FastAPI:
    settings = settings or TraceabilitySettings()
    return create_service_app(settings, title=TITLE, description=DESCRIPTION, routers=[api.router], engine=engine)

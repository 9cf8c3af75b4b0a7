"""The scoring service as the platform runs it (SERVICE), and create_app for tests and the API processes."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common import service
from services.scoring import risk
from services.scoring.settings import ScoringSettings
from services.scoring.tables import ScoringTable

# A skeleton so far: routers, handlers and jobs join the descriptor as api.py, handlers.py and jobs.py appear.
SERVICE = service.Service(
    name="scoring",
    settings=ScoringSettings,
    title="Assay Scoring",
    description="Frameworks as data, assessments and explainable risk scores.",
    metadata=ScoringTable.metadata,
    routers=[risk.router],
    handlers={**risk.HANDLERS},
    jobs=risk.jobs,
)


def create_app(settings: ScoringSettings | None = None, *, engine: AsyncEngine | None = None) -> FastAPI:
    return service.create_app(SERVICE, settings, engine=engine)

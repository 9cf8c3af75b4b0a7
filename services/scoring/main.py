"""The scoring service as the platform runs it (SERVICE), and create_app for tests and the API processes."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common import service
from libs.common.storage import make_store
from services.scoring import api, risk
from services.scoring.settings import ScoringSettings
from services.scoring.tables import ScoringTable

SERVICE = service.Service(
    name="scoring",
    settings=ScoringSettings,
    title="Assay Scoring",
    description="Frameworks as data, assessments and explainable risk scores.",
    routers=[api.router, risk.router],
    handlers={**risk.HANDLERS},
    jobs=risk.jobs,
    metadata=ScoringTable.metadata,
    unique_codes={"uq_framework_version": "framework_version_exists"},
    state=lambda settings: {"store": make_store(settings)},
)


def create_app(settings: ScoringSettings | None = None, *, engine: AsyncEngine | None = None) -> FastAPI:
    return service.create_app(SERVICE, settings, engine=engine)

"""create_app(settings): the one place where settings, sessions and routers of the scoring service are wired."""
from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.app import create_service_app
from services.scoring import api
from services.scoring.settings import ScoringSettings

TITLE = "Assay Scoring"
DESCRIPTION = "Frameworks as data, assessments and explainable risk scores."


def create_app(settings: ScoringSettings | None = None, *, engine: AsyncEngine | None = None) -> FastAPI:
    settings = settings or ScoringSettings()
    return create_service_app(settings, title=TITLE, description=DESCRIPTION, routers=[api.router], engine=engine)

"""create_app(settings): the one place where settings, sessions and routers of the incidents service are wired."""
from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.app import create_service_app
from services.incidents import api
from services.incidents.settings import IncidentsSettings

TITLE = "Assay Incidents"
DESCRIPTION = "Incident intake, OECD Annex II taxonomy, mitigation lifecycle and partner alerts."


def create_app(settings: IncidentsSettings | None = None, *, engine: AsyncEngine | None = None) -> FastAPI:
    settings = settings or IncidentsSettings()
    return create_service_app(settings, title=TITLE, description=DESCRIPTION, routers=[api.router], engine=engine)

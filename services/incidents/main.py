"""The incidents service as the platform runs it (SERVICE), and create_app for tests and the API processes."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common import service
from services.incidents import webhooks
from services.incidents.settings import IncidentsSettings
from services.incidents.tables import IncidentsTable

# A skeleton so far: routers, handlers and jobs join the descriptor as api.py, handlers.py and jobs.py appear.
SERVICE = service.Service(
    name="incidents",
    settings=IncidentsSettings,
    title="Assay Incidents",
    description="Incident intake, OECD Annex II taxonomy, mitigation lifecycle and partner alerts.",
    metadata=IncidentsTable.metadata,
    routers=[webhooks.router],
    handlers={**webhooks.HANDLERS},
    jobs=lambda settings: [*webhooks.jobs(settings)],
)


def create_app(settings: IncidentsSettings | None = None, *, engine: AsyncEngine | None = None) -> FastAPI:
    return service.create_app(SERVICE, settings, engine=engine)

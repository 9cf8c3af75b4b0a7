"""The incidents service as the platform runs it (SERVICE), and create_app for tests and the API processes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common import ratelimit, service
from libs.common.scheduler import Job
from libs.common.storage import make_store
from services.incidents import api, handlers, jobs, webhooks
from services.incidents.settings import IncidentsSettings
from services.incidents.tables import IncidentsTable

ROUTERS = [api.router, api.public, webhooks.router]
HANDLERS = {**handlers.HANDLERS, **webhooks.HANDLERS}


def all_jobs(settings: IncidentsSettings) -> Sequence[Job]:
    return [*jobs.jobs(settings), *webhooks.jobs(settings)]


def app_state(settings: IncidentsSettings) -> Mapping[str, Any]:
    return {
        "limiter": ratelimit.RateLimiter(limit=settings.incidents_public_rate_per_minute, window=60.0),
        "store": make_store(settings),
    }


SERVICE = service.Service(
    name="incidents",
    settings=IncidentsSettings,
    title="Assay Incidents",
    description="Incident intake, OECD Annex II taxonomy, mitigation lifecycle and partner alerts.",
    metadata=IncidentsTable.metadata,
    routers=ROUTERS,
    handlers=HANDLERS,
    jobs=all_jobs,
    unique_codes={"uq_category_org_code": "category_exists"},
    state=app_state,
)


def create_app(settings: IncidentsSettings | None = None, *, engine: AsyncEngine | None = None) -> FastAPI:
    # The whistle-blowers' routes: their access log lines carry no client address.
    ratelimit.hide_client_address([api.PUBLIC_PREFIX])
    return service.create_app(SERVICE, settings, engine=engine)

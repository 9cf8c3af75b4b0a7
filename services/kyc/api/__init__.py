"""HTTP routes of the KYC service, one module per area."""

from __future__ import annotations

from fastapi import APIRouter

from services.kyc.api import (
    actors,
    documents,
    history,
    licences,
    persons,
    risk,
    screening,
    sharing,
    sites,
    watchlists,
    workflow,
)

routers: list[APIRouter] = [
    actors.router,
    persons.router,
    licences.router,
    documents.router,
    workflow.router,
    history.router,
    sharing.router,
]
routers += [sites.router, risk.router]
routers += [watchlists.router, screening.router]

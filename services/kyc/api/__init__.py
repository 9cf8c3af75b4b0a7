"""HTTP routes of the KYC service, one module per area."""
from __future__ import annotations

from fastapi import APIRouter

from services.kyc.api import actors, documents, history, licences, persons, sharing, workflow
from services.kyc.api import risk, sites
from services.kyc.api import screening, watchlists

routers: list[APIRouter] = [actors.router, persons.router, licences.router, documents.router, workflow.router,
                            history.router, sharing.router]
routers += [sites.router, risk.router]
routers += [watchlists.router, screening.router]

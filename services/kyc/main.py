"""The KYC service as the platform runs it (SERVICE), and create_app: where its settings, storage and routers meet."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common import service
from libs.common.storage import make_store
from services.kyc import api
from services.kyc.handlers import HANDLERS
from services.kyc.jobs import jobs
from services.kyc.settings import KycSettings
from services.kyc.tables import KycTable

SERVICE = service.Service(
    name="kyc",
    settings=KycSettings,
    title="Assay KYC",
    description=(
        "Register of upstream actors, their owners, licences and mine sites; watchlist screening; four-eyes review."
    ),
    routers=api.routers,
    handlers=HANDLERS,
    jobs=jobs,
    metadata=KycTable.metadata,
    unique_codes={"uq_actor_registration": "duplicate_registration", "uq_licence_number": "duplicate_licence"},
    state=lambda settings: {"store": make_store(settings)},
)


def create_app(settings: KycSettings | None = None, *, engine: AsyncEngine | None = None) -> FastAPI:
    return service.create_app(SERVICE, settings, engine=engine)

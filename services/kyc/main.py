"""create_app(settings): the one place where settings, sessions, storage and routers of the KYC service are wired."""
from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.app import create_service_app
from libs.common.storage import make_store
from services.kyc import api
from services.kyc.settings import KycSettings

TITLE = "Assay KYC"
DESCRIPTION = ("Register of upstream actors, their owners, licences and mine sites; watchlist screening; "
               "four-eyes review.")


def create_app(settings: KycSettings | None = None, *, engine: AsyncEngine | None = None) -> FastAPI:
    settings = settings or KycSettings()
    return create_service_app(settings, title=TITLE, description=DESCRIPTION, routers=api.routers, engine=engine,
                              state={"store": make_store(settings)})

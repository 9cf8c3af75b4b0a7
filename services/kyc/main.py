"""create_app(settings): the one place where settings, sessions and routers of the kyc service are wired."""
from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.app import create_service_app
from services.kyc import api
from services.kyc.settings import KycSettings

TITLE = "Assay KYC"
DESCRIPTION = "Register of upstream actors, owners, licences and mine sites; sanctions screening; four-eyes review."


def create_app(settings: KycSettings | None = None, *, engine: AsyncEngine | None = None) -> FastAPI:
    settings = settings or KycSettings()
    return create_service_app(settings, title=TITLE, description=DESCRIPTION, routers=[api.router], engine=engine)

"""What routes need besides the caller and the transaction: the service's settings and its object store."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from libs.common.storage import ObjectStore
from services.kyc.settings import KycSettings


async def _settings(request: Request) -> KycSettings:
    return request.app.state.settings


async def _store(request: Request) -> ObjectStore:
    return request.app.state.store


Settings = Annotated[KycSettings, Depends(_settings)]
Store = Annotated[ObjectStore, Depends(_store)]


def review_months(settings: KycSettings) -> dict[str, int]:
    return {
        "high": settings.kyc_review_months_high,
        "medium": settings.kyc_review_months_medium,
        "low": settings.kyc_review_months_low,
    }

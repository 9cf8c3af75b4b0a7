"""HTTP route of an actor's history: who changed what, when, across its persons, licences and documents."""
from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from libs.common.db import DbTransaction
from services.kyc.access import Reader
from services.kyc.schemas.history import HistoryEntryRead, HistoryPage
from services.kyc.use_cases import history as use_cases

router = APIRouter(tags=["history"])


@router.get("/actors/{actor_id}/history", summary="Every change of the actor and its parts, oldest first",
            responses={404: {"description": "no such actor in the caller's organisation"}})
async def actor_history(actor_id: UUID, principal: Reader, db: DbTransaction,
                        limit: Annotated[int, Query(ge=1, le=1000)] = 500,
                        offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> HistoryPage:
    rows, total = await use_cases.actor_history(db, actor_id, org_id=principal.org_id, limit=limit, offset=offset)
    return HistoryPage(items=[HistoryEntryRead.from_row(r) for r in rows], total=total, limit=limit, offset=offset)

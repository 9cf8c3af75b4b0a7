"""HTTP route of an actor's history: who changed what, when, across its persons, licences and documents."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from libs.common.db import DbRead
from libs.common.pagination import PageQuery
from services.kyc.access import Reader
from services.kyc.schemas.history import HistoryEntryRead, HistoryPage
from services.kyc.use_cases import history as use_cases

router = APIRouter(tags=["history"])


@router.get(
    "/actors/{actor_id}/history",
    summary="Every change of the actor and its parts, oldest first",
    responses={404: {"description": "no such actor in the caller's organisation"}},
)
async def actor_history(actor_id: UUID, principal: Reader, db: DbRead, page: PageQuery) -> HistoryPage:
    entries, total = await use_cases.list_actor_history(db, principal, actor_id, page=page)
    return HistoryPage(
        items=[HistoryEntryRead.from_domain(e) for e in entries], total=total, limit=page.limit, offset=page.offset
    )

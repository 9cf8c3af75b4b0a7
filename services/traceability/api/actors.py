"""HTTP routes of the traceability service."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query

from libs.common.db import DbRead
from libs.common.pagination import MAX_OFFSET
from services.traceability.access import Operator
from services.traceability.repository import actors as repository
from services.traceability.schemas.actors import KnownActorRead

router = APIRouter(prefix="/known-actors", tags=["known actors"])
KycStatus = Literal["draft", "submitted", "under_review", "approved", "rejected", "suspended"]


@router.get("", summary="Actors as KYC last reported them, for the caller's organisation")
async def list_known_actors(
    principal: Operator,
    db: DbRead,
    status: KycStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[KnownActorRead]:
    rows = await repository.list_known_actors(db, org_id=principal.org_id, status=status, limit=limit, offset=offset)
    return [KnownActorRead.from_row(r) for r in rows]


@router.get(
    "/{actor_id}",
    summary="One actor's KYC status as traceability knows it",
    responses={404: {"description": "unknown here, or another organisation's"}},
)
async def get_known_actor(actor_id: UUID, principal: Operator, db: DbRead) -> KnownActorRead:
    return KnownActorRead.from_row(await repository.get_known_actor(db, actor_id, org_id=principal.org_id))

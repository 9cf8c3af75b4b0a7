"""HTTP routes of actors: register, read, list, correct; and the list of overdue reviews."""
from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from libs.common.db import DbTransaction, utcnow
from services.kyc.access import Creator, Editor, Reader
from services.kyc.repository import actors as repository
from services.kyc.schemas.actors import (
    ActorPage,
    ActorRead,
    ActorType,
    KycStatus,
    RegisterActor,
    RiskLevel,
    UpdateActor,
)
from services.kyc.schemas.text import text
from services.kyc.schemas.workflow import OverdueReviewPage
from services.kyc.use_cases import actors as use_cases
from services.kyc.use_cases import reviews

router = APIRouter(prefix="/actors", tags=["actors"])
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
NOT_FOUND = {404: {"description": "no such actor in the caller's organisation (or shared with it)"}}


@router.get("/reviews/overdue", summary="Approved or suspended actors whose next review date has passed")
async def list_overdue_reviews(principal: Reader, db: DbTransaction, as_of: date | None = None, limit: Limit = 100,
                               offset: Offset = 0) -> OverdueReviewPage:
    rows, total = await reviews.list_overdue(db, org_id=principal.org_id, today=as_of or utcnow().date(),
                                             limit=limit, offset=offset)
    return OverdueReviewPage(items=[ActorRead.from_row(r) for r in rows], total=total, limit=limit, offset=offset)


@router.post("", status_code=201, summary="Register an actor (draft); screening is requested",
             responses={409: {"description": "duplicate_registration"}, 422: {"description": "invalid input"}})
async def register_actor(body: RegisterActor, principal: Creator, db: DbTransaction) -> ActorRead:
    row = await use_cases.register_actor(db, body.model_dump(), principal=principal)
    return ActorRead.from_row(row)


@router.get("", summary="Actors the caller's organisation owns or was shared, with filters")
async def list_actors(principal: Reader, db: DbTransaction, kyc_status: KycStatus | None = None,
                      actor_type: ActorType | None = None,
                      country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$")] = None,
                      region: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}-[A-Za-z0-9]{1,3}$")] = None,
                      risk_level: RiskLevel | None = None,
                      mineral: Annotated[str | None, Query(pattern=r"^[0-9]{4,10}$")] = None,
                      q: Annotated[text(100) | None, Query(description="part of the legal name or an alias")] = None,
                      limit: Limit = 100, offset: Offset = 0) -> ActorPage:
    where = repository.ActorFilter(kyc_status=kyc_status, actor_type=actor_type,
                                   country=country.upper() if country else None,
                                   region=region.upper() if region else None, risk_level=risk_level,
                                   mineral=mineral, name=q)
    rows, total = await repository.list_actors(db, org_id=principal.org_id, where=where, limit=limit, offset=offset)
    return ActorPage(items=[ActorRead.from_row(r) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/{actor_id}", summary="One actor", responses=NOT_FOUND)
async def get_actor(actor_id: UUID, principal: Reader, db: DbTransaction) -> ActorRead:
    return ActorRead.from_row(await repository.get_visible_actor(db, actor_id, org_id=principal.org_id))


@router.patch("/{actor_id}", summary="Correct an actor's fields (optimistic concurrency via `version`)",
              responses={**NOT_FOUND, 409: {"description": "stale_version, duplicate_registration, actor_locked"}})
async def update_actor(actor_id: UUID, body: UpdateActor, principal: Editor, db: DbTransaction) -> ActorRead:
    row = await use_cases.update_actor(db, actor_id, body.changes(), version=body.version, principal=principal)
    return ActorRead.from_row(row)

"""HTTP routes of screening: the review queue of hits, analysts' decisions, an actor's screening summary."""
from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query

from libs.common.db import DbTransaction
from services.kyc.access import Reader, Reviewer
from services.kyc.schemas.screening import (
    ActorScreeningRead,
    DecideHit,
    HitPage,
    HitRead,
)
from services.kyc.use_cases import screening as use_cases

router = APIRouter(tags=["screening"])
NOT_FOUND = {404: {"description": "no such hit in the caller's organisation"}}
DECIDED = {409: {"description": "hit_already_decided"}}


@router.get("/screening/hits", summary="The review queue: hits of the caller's organisation, best score first")
async def list_hits(principal: Reader, db: DbTransaction,
                    status: Literal["pending", "confirmed", "dismissed"] | None = None,
                    actor_id: UUID | None = None,
                    limit: Annotated[int, Query(ge=1, le=500)] = 100,
                    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> HitPage:
    rows, total = await use_cases.list_hits(db, org_id=principal.org_id, status=status, actor_id=actor_id,
                                            limit=limit, offset=offset)
    return HitPage(items=[HitRead.from_row(h, w) for h, w in rows], total=total, limit=limit, offset=offset)


@router.get("/screening/hits/{hit_id}", summary="One hit, with the explanation of what matched", responses=NOT_FOUND)
async def get_hit(hit_id: UUID, principal: Reader, db: DbTransaction) -> HitRead:
    return HitRead.from_row(*await use_cases.get_hit(db, hit_id, org_id=principal.org_id))


@router.post("/screening/hits/{hit_id}/confirm", summary="Record a true match (it keeps blocking approval)",
             responses={**NOT_FOUND, **DECIDED})
async def confirm_hit(hit_id: UUID, body: DecideHit, principal: Reviewer, db: DbTransaction) -> HitRead:
    hit, watchlist = await use_cases.confirm_hit(db, hit_id, org_id=principal.org_id, user_id=principal.user_id,
                                                 reason=body.reason)
    return HitRead.from_row(hit, watchlist)


@router.post("/screening/hits/{hit_id}/dismiss",
             summary="Record a false positive (not raised again unless the list entry or the subject changes)",
             responses={**NOT_FOUND, **DECIDED})
async def dismiss_hit(hit_id: UUID, body: DecideHit, principal: Reviewer, db: DbTransaction) -> HitRead:
    hit, watchlist = await use_cases.dismiss_hit(db, hit_id, org_id=principal.org_id, user_id=principal.user_id,
                                                 reason=body.reason)
    return HitRead.from_row(hit, watchlist)


@router.get("/actors/{actor_id}/screening", summary="An actor's screening state: hits by status, screenings to run",
            responses={404: {"description": "no such actor in the caller's organisation"}})
async def actor_screening(actor_id: UUID, principal: Reader, db: DbTransaction) -> ActorScreeningRead:
    summary = await use_cases.actor_screening(db, actor_id, org_id=principal.org_id)
    return ActorScreeningRead.model_validate(summary, from_attributes=True)

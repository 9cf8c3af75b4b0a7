"""HTTP routes of screening: the review queue of hits, analysts' decisions, an actor's screening summary."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from fastapi import APIRouter

from libs.common.db import DbRead, DbTransaction
from libs.common.pagination import PageQuery
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
async def list_hits(
    principal: Reader,
    db: DbRead,
    page: PageQuery,
    status: Literal["pending", "confirmed", "dismissed"] | None = None,
    actor_id: UUID | None = None,
) -> HitPage:
    hits, total = await use_cases.list_hits(db, principal, status=status, actor_id=actor_id, page=page)
    return HitPage(items=[HitRead.from_domain(h) for h in hits], total=total, limit=page.limit, offset=page.offset)


@router.get("/screening/hits/{hit_id}", summary="One hit, with the explanation of what matched", responses=NOT_FOUND)
async def get_hit(hit_id: UUID, principal: Reader, db: DbRead) -> HitRead:
    return HitRead.from_domain(await use_cases.get_hit(db, principal, hit_id))


@router.post(
    "/screening/hits/{hit_id}/confirm",
    summary="Record a true match (it keeps blocking approval)",
    responses={**NOT_FOUND, **DECIDED},
)
async def confirm_hit(hit_id: UUID, body: DecideHit, principal: Reviewer, db: DbTransaction) -> HitRead:
    return HitRead.from_domain(await use_cases.confirm_hit(db, principal, hit_id, reason=body.reason))


@router.post(
    "/screening/hits/{hit_id}/dismiss",
    summary="Record a false positive (not raised again unless the list entry or the subject changes)",
    responses={**NOT_FOUND, **DECIDED},
)
async def dismiss_hit(hit_id: UUID, body: DecideHit, principal: Reviewer, db: DbTransaction) -> HitRead:
    return HitRead.from_domain(await use_cases.dismiss_hit(db, principal, hit_id, reason=body.reason))


@router.get(
    "/actors/{actor_id}/screening",
    summary="An actor's screening state: hits by status, screenings to run",
    responses={404: {"description": "no such actor in the caller's organisation"}},
)
async def actor_screening(actor_id: UUID, principal: Reader, db: DbRead) -> ActorScreeningRead:
    summary = await use_cases.get_actor_screening(db, principal, actor_id)
    return ActorScreeningRead.model_validate(summary, from_attributes=True)

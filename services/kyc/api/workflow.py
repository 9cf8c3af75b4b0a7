"""HTTP routes of the review workflow: one POST per move of an actor's KYC status."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Body

from libs.common.concurrency import VERSION_RESPONSES, IfMatch, expected_version
from libs.common.db import DbTransaction
from services.kyc.access import Creator, Reviewer
from services.kyc.api.context import Settings, review_months
from services.kyc.schemas.actors import ActorRead
from services.kyc.schemas.workflow import Decision, Transition
from services.kyc.use_cases import workflow as use_cases

router = APIRouter(prefix="/actors/{actor_id}", tags=["review workflow"])
MOVE = {
    **VERSION_RESPONSES,
    404: {"description": "no such actor in the caller's organisation"},
    409: {"description": "invalid_transition, stale_version"},
}
APPROVAL = {
    **MOVE,
    403: {"description": "four_eyes (the submitter cannot approve), missing_role, operator_only"},
    409: {"description": "invalid_transition, stale_version, open_hits, screening_pending"},
}
NoBody = Body(default_factory=Transition)


def _version(body: Transition | Decision, if_match: int | None) -> int:
    return expected_version(body.version, if_match)


@router.post("/submit", summary="draft → submitted", responses=MOVE)
async def submit(
    actor_id: UUID, principal: Creator, db: DbTransaction, if_match: IfMatch, body: Transition = NoBody
) -> ActorRead:
    actor = await use_cases.submit_actor(db, principal, actor_id, version=_version(body, if_match), reason=body.reason)
    return ActorRead.from_domain(actor)


@router.post("/start-review", summary="submitted → under_review", responses=MOVE)
async def start_review(
    actor_id: UUID, principal: Reviewer, db: DbTransaction, if_match: IfMatch, body: Transition = NoBody
) -> ActorRead:
    actor = await use_cases.start_review(db, principal, actor_id, version=_version(body, if_match), reason=body.reason)
    return ActorRead.from_domain(actor)


@router.post(
    "/approve",
    summary="under_review → approved: four eyes, clear screening, risk level, review date",
    responses=APPROVAL,
)
async def approve(
    actor_id: UUID,
    principal: Reviewer,
    db: DbTransaction,
    settings: Settings,
    if_match: IfMatch,
    body: Transition = NoBody,
) -> ActorRead:
    actor = await use_cases.approve_actor(
        db,
        principal,
        actor_id,
        review_months=review_months(settings),
        version=_version(body, if_match),
        reason=body.reason,
    )
    return ActorRead.from_domain(actor)


@router.post("/reject", summary="under_review → rejected", responses=MOVE)
async def reject(
    actor_id: UUID, body: Decision, principal: Reviewer, db: DbTransaction, if_match: IfMatch
) -> ActorRead:
    actor = await use_cases.reject_actor(db, principal, actor_id, reason=body.reason, version=_version(body, if_match))
    return ActorRead.from_domain(actor)


@router.post("/suspend", summary="approved → suspended", responses=MOVE)
async def suspend(
    actor_id: UUID, body: Decision, principal: Reviewer, db: DbTransaction, if_match: IfMatch
) -> ActorRead:
    actor = await use_cases.suspend_actor(db, principal, actor_id, reason=body.reason, version=_version(body, if_match))
    return ActorRead.from_domain(actor)


@router.post(
    "/reinstate",
    summary="suspended → approved (screening must be clear)",
    responses={**MOVE, 409: {"description": "invalid_transition, stale_version, open_hits, screening_pending"}},
)
async def reinstate(
    actor_id: UUID, body: Decision, principal: Reviewer, db: DbTransaction, if_match: IfMatch
) -> ActorRead:
    actor = await use_cases.reinstate_actor(
        db, principal, actor_id, reason=body.reason, version=_version(body, if_match)
    )
    return ActorRead.from_domain(actor)


@router.post("/reopen", summary="rejected → draft, to correct and submit again", responses=MOVE)
async def reopen(
    actor_id: UUID, principal: Creator, db: DbTransaction, if_match: IfMatch, body: Transition = NoBody
) -> ActorRead:
    actor = await use_cases.reopen_actor(db, principal, actor_id, version=_version(body, if_match), reason=body.reason)
    return ActorRead.from_domain(actor)


@router.post(
    "/complete-review",
    summary="Periodic review of an approved actor: approval checks again, new risk level and next review date",
    responses=APPROVAL,
)
async def complete_review(
    actor_id: UUID,
    principal: Reviewer,
    db: DbTransaction,
    settings: Settings,
    if_match: IfMatch,
    body: Transition = NoBody,
) -> ActorRead:
    actor = await use_cases.complete_review(
        db,
        principal,
        actor_id,
        review_months=review_months(settings),
        version=_version(body, if_match),
        reason=body.reason,
    )
    return ActorRead.from_domain(actor)

"""The review workflow: submit, review, approve (four eyes, clear screening, risk level and review date), reject,
suspend, reinstate, reopen, and the periodic review of an approved actor. Each move is one call of the actor."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.db import utcnow
from libs.common.events.kyc import KycEvent
from services.kyc.domain import review
from services.kyc.domain.actors import Actor
from services.kyc.domain.history import diff
from services.kyc.domain.review import RiskAssessment
from services.kyc.domain.screening import ScreeningGate
from services.kyc.repository import licences as licence_repository
from services.kyc.repository import persons as person_repository
from services.kyc.repository import risk as risk_repository
from services.kyc.repository import screening as screening_repository
from services.kyc.use_cases import announce
from services.kyc.use_cases.actors import actor_for_change, record_change


async def submit_actor(
    db: AsyncSession, principal: Principal, actor_id: UUID, *, version: int | None = None, reason: str | None = None
) -> Actor:
    async def decide(actor: Actor) -> KycEvent:
        return actor.submit(by=principal.user_id, now=utcnow())

    return await _move(db, principal, actor_id, decide, version=version, action="submitted", reason=reason)


async def start_review(
    db: AsyncSession, principal: Principal, actor_id: UUID, *, version: int | None = None, reason: str | None = None
) -> Actor:
    async def decide(actor: Actor) -> KycEvent:
        return actor.start_review(by=principal.user_id, now=utcnow())

    return await _move(db, principal, actor_id, decide, version=version, action="review_started", reason=reason)


async def approve_actor(
    db: AsyncSession,
    principal: Principal,
    actor_id: UUID,
    *,
    review_months: Mapping[str, int],
    version: int | None = None,
    reason: str | None = None,
) -> Actor:
    """Four eyes, no blocking hit, no pending screening; then the risk level and the next review date."""

    async def decide(actor: Actor) -> KycEvent:
        assessment, screening = await _approval_facts(db, actor)
        return actor.approve(
            by=principal.user_id, assessment=assessment, screening=screening, review_months=review_months, now=utcnow()
        )

    return await _move(db, principal, actor_id, decide, version=version, action="approved", reason=reason)


async def complete_review(
    db: AsyncSession,
    principal: Principal,
    actor_id: UUID,
    *,
    review_months: Mapping[str, int],
    version: int | None = None,
    reason: str | None = None,
) -> Actor:
    """The periodic review of an approved actor: the approval checks again, a fresh risk level and review date."""

    async def decide(actor: Actor) -> KycEvent:
        assessment, screening = await _approval_facts(db, actor)
        return actor.complete_review(
            by=principal.user_id, assessment=assessment, screening=screening, review_months=review_months, now=utcnow()
        )

    return await _move(db, principal, actor_id, decide, version=version, action="review_completed", reason=reason)


async def reject_actor(
    db: AsyncSession, principal: Principal, actor_id: UUID, *, reason: str, version: int | None = None
) -> Actor:
    async def decide(actor: Actor) -> KycEvent:
        return actor.reject(by=principal.user_id, reason=reason, now=utcnow())

    return await _move(db, principal, actor_id, decide, version=version, action="rejected", reason=reason)


async def suspend_actor(
    db: AsyncSession, principal: Principal, actor_id: UUID, *, reason: str, version: int | None = None
) -> Actor:
    async def decide(actor: Actor) -> KycEvent:
        return actor.suspend(by=principal.user_id, reason=reason, now=utcnow())

    return await _move(db, principal, actor_id, decide, version=version, action="suspended", reason=reason)


async def reinstate_actor(
    db: AsyncSession, principal: Principal, actor_id: UUID, *, reason: str, version: int | None = None
) -> Actor:
    """Back to approved, keeping its review date, once screening is clear again."""

    async def decide(actor: Actor) -> KycEvent:
        screening = await screening_repository.screening_gate(db, actor_id=actor.id)
        return actor.reinstate(by=principal.user_id, reason=reason, now=utcnow(), screening=screening)

    return await _move(db, principal, actor_id, decide, version=version, action="reinstated", reason=reason)


async def reopen_actor(
    db: AsyncSession, principal: Principal, actor_id: UUID, *, version: int | None = None, reason: str | None = None
) -> Actor:
    """A rejected actor back to draft, to be corrected and submitted again (by whoever submits next)."""

    async def decide(actor: Actor) -> KycEvent:
        return actor.reopen(by=principal.user_id, reason=reason, now=utcnow())

    return await _move(db, principal, actor_id, decide, version=version, action="reopened", reason=reason)


async def _move(
    db: AsyncSession,
    principal: Principal,
    actor_id: UUID,
    decide: Callable[[Actor], Awaitable[KycEvent]],
    *,
    version: int | None,
    action: str,
    reason: str | None,
) -> Actor:
    """Every move alike: load the actor locked for the change, let it decide (it returns the event), save,
    announce and record the history."""
    actor = await actor_for_change(db, principal, actor_id, version=version)
    before = actor.audited()
    event = await decide(actor)
    await announce.save_actor(db, actor, event)
    changes = diff(before, actor.audited())
    if reason:
        changes["reason"] = {"before": None, "after": reason}
    record_change(db, principal, actor, action=action, changes=changes)
    return actor


async def _approval_facts(db: AsyncSession, actor: Actor) -> tuple[RiskAssessment, ScreeningGate]:
    return await assess_actor(db, actor), await screening_repository.screening_gate(db, actor_id=actor.id)


async def assess_actor(db: AsyncSession, actor: Actor) -> RiskAssessment:
    """The risk rule's facts as the register holds them today (the table in force, persons, licences)."""
    area = await risk_repository.area_risk(db, org_id=actor.org_id, country=actor.country, region=actor.region)
    persons = await person_repository.list_persons(db, actor_id=actor.id)
    return review.assess(
        area_risk=area.level,
        actor_type=actor.actor_type,
        table_version=area.table_version,
        has_beneficial_owner=any(p.role == "beneficial_owner" for p in persons),
        has_valid_licence=await licence_repository.valid_licence_exists(db, actor_id=actor.id, on=utcnow().date()),
    )

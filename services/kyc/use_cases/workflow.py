"""The review workflow: submit, review, approve (four eyes, clear screening, risk level and review date),
reject, suspend, reinstate, reopen, and the periodic review of an approved actor."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.db import utcnow
from libs.common.errors import Conflict
from libs.common.events.kyc import (
    ActorApproved,
    ActorReinstated,
    ActorRejected,
    ActorReopened,
    ActorReviewStarted,
    ActorSubmitted,
    ActorSuspended,
)
from services.kyc.domain import review, workflow
from services.kyc.domain.history import diff, snapshot
from services.kyc.repository import actors as repository
from services.kyc.repository import licences as licence_repository
from services.kyc.repository import persons as person_repository
from services.kyc.repository import risk as risk_repository
from services.kyc.repository import screening as screening_repository
from services.kyc.tables.register import ActorRow
from services.kyc.use_cases import announce, history
from services.kyc.use_cases.actors import check_version, touch

STATE_FIELDS = ("kyc_status", "submitted_by", "submitted_at", "approved_by", "approved_at", "risk_level",
                "risk_factors", "risk_table_version", "next_review_date")


async def _move(db: AsyncSession, actor_id: UUID, action: str, *, principal: Principal,
                version: int | None) -> tuple[ActorRow, dict[str, Any]]:
    """The actor locked, checked against `version`, moved to its next status; returns it and its prior state."""
    row = await repository.get_actor(db, actor_id, org_id=principal.org_id, for_update=True)
    check_version(row, version)
    before = snapshot(row, STATE_FIELDS)
    row.kyc_status = workflow.next_status(row.kyc_status, action)
    return row, before


def _record(db: AsyncSession, row: ActorRow, before: dict[str, Any], *, action: str, principal: Principal,
            reason: str | None) -> None:
    touch(row)
    changes = diff(before, snapshot(row, STATE_FIELDS))
    if reason:
        changes["reason"] = {"before": None, "after": reason}
    history.record(db, org_id=row.org_id, user_id=principal.user_id, entity_type="actor", entity_id=row.id,
                   action=action, changes=changes, actor_id=row.id)


async def submit(db: AsyncSession, actor_id: UUID, *, principal: Principal, version: int | None = None,
                 reason: str | None = None) -> ActorRow:
    row, before = await _move(db, actor_id, "submit", principal=principal, version=version)
    row.submitted_by, row.submitted_at = principal.user_id, utcnow()
    _record(db, row, before, action="submitted", principal=principal, reason=reason)
    await announce.actor_event(db, row, ActorSubmitted, submitted_by=principal.user_id)
    return row


async def start_review(db: AsyncSession, actor_id: UUID, *, principal: Principal, version: int | None = None,
                       reason: str | None = None) -> ActorRow:
    row, before = await _move(db, actor_id, "start_review", principal=principal, version=version)
    _record(db, row, before, action="review_started", principal=principal, reason=reason)
    await announce.actor_event(db, row, ActorReviewStarted, reviewer=principal.user_id)
    return row


async def approve(db: AsyncSession, actor_id: UUID, *, principal: Principal, review_months: Mapping[str, int],
                  version: int | None = None, reason: str | None = None) -> ActorRow:
    """Four eyes, no blocking hit, no pending screening; then the risk level and the next review date."""
    row, before = await _move(db, actor_id, "approve", principal=principal, version=version)
    await _decide_approval(db, row, principal=principal, review_months=review_months)
    _record(db, row, before, action="approved", principal=principal, reason=reason)
    await _announce_approval(db, row, periodic=False)
    return row


async def complete_review(db: AsyncSession, actor_id: UUID, *, principal: Principal,
                          review_months: Mapping[str, int], version: int | None = None,
                          reason: str | None = None) -> ActorRow:
    """The periodic review of an approved actor: the approval checks again, a fresh risk level and review date."""
    row, before = await _move(db, actor_id, "complete_review", principal=principal, version=version)
    await _decide_approval(db, row, principal=principal, review_months=review_months)
    _record(db, row, before, action="review_completed", principal=principal, reason=reason)
    await _announce_approval(db, row, periodic=True)
    return row


async def reject(db: AsyncSession, actor_id: UUID, *, principal: Principal, reason: str,
                 version: int | None = None) -> ActorRow:
    row, before = await _move(db, actor_id, "reject", principal=principal, version=version)
    _record(db, row, before, action="rejected", principal=principal, reason=reason)
    await announce.actor_event(db, row, ActorRejected, rejected_by=principal.user_id, reason=reason)
    return row


async def suspend(db: AsyncSession, actor_id: UUID, *, principal: Principal, reason: str,
                  version: int | None = None) -> ActorRow:
    row, before = await _move(db, actor_id, "suspend", principal=principal, version=version)
    _record(db, row, before, action="suspended", principal=principal, reason=reason)
    await announce.actor_event(db, row, ActorSuspended, suspended_by=principal.user_id, reason=reason)
    return row


async def reinstate(db: AsyncSession, actor_id: UUID, *, principal: Principal, reason: str,
                    version: int | None = None) -> ActorRow:
    """Back to approved, keeping its review date, once screening is clear again."""
    row, before = await _move(db, actor_id, "reinstate", principal=principal, version=version)
    await _check_screening_clear(db, row.id)
    _record(db, row, before, action="reinstated", principal=principal, reason=reason)
    await announce.actor_event(db, row, ActorReinstated, reinstated_by=principal.user_id, reason=reason)
    return row


async def reopen(db: AsyncSession, actor_id: UUID, *, principal: Principal, version: int | None = None,
                 reason: str | None = None) -> ActorRow:
    """A rejected actor back to draft, to be corrected and submitted again (by whoever submits next)."""
    row, before = await _move(db, actor_id, "reopen", principal=principal, version=version)
    row.submitted_by = row.submitted_at = None
    _record(db, row, before, action="reopened", principal=principal, reason=reason)
    await announce.actor_event(db, row, ActorReopened, reopened_by=principal.user_id, reason=reason)
    return row


async def _decide_approval(db: AsyncSession, row: ActorRow, *, principal: Principal,
                           review_months: Mapping[str, int]) -> None:
    workflow.check_four_eyes(submitted_by=row.submitted_by, decided_by=principal.user_id)
    await _check_screening_clear(db, row.id)
    today = utcnow().date()
    assessment, table_version = await _assess(db, row, today)
    row.risk_level, row.risk_factors = assessment.level, list(assessment.factors)
    row.risk_table_version = table_version
    row.approved_by, row.approved_at = principal.user_id, utcnow()
    row.next_review_date = review.next_review_date(today, assessment.level, review_months)


async def _check_screening_clear(db: AsyncSession, actor_id: UUID) -> None:
    hits = await screening_repository.count_blocking_hits(db, actor_id=actor_id)
    if hits > 0:
        raise Conflict(f"{hits} screening hit(s) of this actor or its persons are open or confirmed",
                       code="open_hits", hits=hits)
    pending = await screening_repository.count_pending_screenings(db, actor_id=actor_id)
    if pending > 0:
        raise Conflict(f"{pending} screening(s) of this actor or its persons have not run yet",
                       code="screening_pending", pending=pending)


async def _assess(db: AsyncSession, row: ActorRow, today: date) -> tuple[review.RiskAssessment, int | None]:
    area, table_version = await risk_repository.area_risk(db, org_id=row.org_id, country=row.country,
                                                          region=row.region)
    persons = await person_repository.list_persons(db, actor_id=row.id)
    assessment = review.assess(
        area_risk=area, actor_type=row.actor_type,
        has_beneficial_owner=any(p.role == "beneficial_owner" for p in persons),
        has_valid_licence=await licence_repository.valid_licence_exists(db, actor_id=row.id, on=today))
    return assessment, table_version


async def _announce_approval(db: AsyncSession, row: ActorRow, *, periodic: bool) -> None:
    await announce.actor_event(db, row, ActorApproved, approved_by=row.approved_by,
                               risk_table_version=row.risk_table_version, periodic_review=periodic)

"""Screening use cases: queue a subject for screening, the review queue of hits, and analysts' decisions on them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.db import utcnow
from libs.common.pagination import Pagination
from services.kyc.domain.screening import Hit, HitStatus, ScreeningRequest
from services.kyc.repository import actors as actor_repository
from services.kyc.repository import screening as repository
from services.kyc.use_cases import announce, history


@dataclass(frozen=True)
class ActorScreening:
    """Where an actor stands: open hits, decided hits, screenings still to run."""

    actor_id: UUID
    pending_hits: int
    confirmed_hits: int
    dismissed_hits: int
    pending_screenings: int
    last_screened_at: datetime | None


async def request_screening(
    db: AsyncSession, *, org_id: str, actor_id: UUID, subject_type: str, subject_id: UUID
) -> None:
    """Queue an actor or person for the screening job, in the caller's transaction (a step of other use cases)."""
    await repository.save_request(
        db,
        ScreeningRequest.of_subject(
            org_id=org_id, actor_id=actor_id, subject_type=subject_type, subject_id=subject_id, now=utcnow()
        ),
    )


async def list_hits(
    db: AsyncSession, principal: Principal, *, status: str | None, actor_id: UUID | None, page: Pagination
) -> tuple[list[Hit], int]:
    return await repository.list_hits(db, org_id=principal.org_id, status=status, actor_id=actor_id, page=page)


async def get_hit(db: AsyncSession, principal: Principal, hit_id: UUID) -> Hit:
    return await repository.get_hit(db, hit_id, org_id=principal.org_id)


async def confirm_hit(db: AsyncSession, principal: Principal, hit_id: UUID, *, reason: str) -> Hit:
    """A true match: the hit keeps blocking the actor's approval."""
    return await _decide(db, principal, hit_id, HitStatus.CONFIRMED, reason=reason)


async def dismiss_hit(db: AsyncSession, principal: Principal, hit_id: UUID, *, reason: str) -> Hit:
    """A false positive: not raised again until the list entry or the subject changes."""
    return await _decide(db, principal, hit_id, HitStatus.DISMISSED, reason=reason)


async def _decide(db: AsyncSession, principal: Principal, hit_id: UUID, status: HitStatus, *, reason: str) -> Hit:
    # The hit first, then its actor: the order the screening job takes them in, so the two never deadlock.
    hit = await repository.get_hit(db, hit_id, org_id=principal.org_id, for_update=True)
    actor = await actor_repository.get_actor(db, hit.actor_id, org_id=hit.org_id, for_update=True)
    decide = hit.confirm if status is HitStatus.CONFIRMED else hit.dismiss
    event = decide(actor=actor, by=principal.user_id, reason=reason, now=utcnow())
    await repository.save_hit(db, hit)
    await announce.save_actor(db, actor, event)
    history.record(
        db,
        org_id=hit.org_id,
        user_id=principal.user_id,
        entity_type="screening_hit",
        entity_id=hit.id,
        action=status.value,
        actor_id=hit.actor_id,
        changes={
            "status": {"before": "pending", "after": status.value},
            "reason": hit.reason,
            "watchlist": hit.watchlist_name,
            "entry_id": hit.entry_id,
            "subject": f"{hit.subject_type} {hit.subject_id}",
        },
    )
    return hit


async def get_actor_screening(db: AsyncSession, principal: Principal, actor_id: UUID) -> ActorScreening:
    actor = await actor_repository.get_actor(
        db, actor_id, org_id=principal.org_id, if_shared=actor_repository.NOT_SHARED
    )
    counts = await repository.count_actor_hits(db, actor.id)
    return ActorScreening(
        actor_id=actor.id,
        pending_hits=counts.get(HitStatus.PENDING, 0),
        confirmed_hits=counts.get(HitStatus.CONFIRMED, 0),
        dismissed_hits=counts.get(HitStatus.DISMISSED, 0),
        pending_screenings=await repository.count_pending_screenings(db, actor_id=actor.id),
        last_screened_at=await repository.last_screened_at(db, actor.id),
    )

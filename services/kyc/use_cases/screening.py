"""Screening use cases: queue a subject for screening, and the review queue of hits with analysts' decisions."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import utcnow
from libs.common.events.kyc import HitConfirmed, HitDismissed
from services.kyc.domain import screening as rules
from services.kyc.domain.screening import SUBJECT_TYPES, HitStatus
from services.kyc.repository import actors as actor_repository
from services.kyc.repository import screening as repository
from services.kyc.tables.screening import (
    ScreeningHitRow,
    ScreeningRequestRow,
    WatchlistRow,
)
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


async def request_screening(db: AsyncSession, *, org_id: str, actor_id: UUID, subject_type: str,
                            subject_id: UUID) -> None:
    """Queue an actor or person for the screening job, in the caller's transaction."""
    if subject_type not in SUBJECT_TYPES:
        raise ValueError(f"subject_type must be one of {SUBJECT_TYPES}, not {subject_type!r}")
    repository.save_request(db, ScreeningRequestRow(
        id=uuid4(), org_id=org_id, actor_id=actor_id, subject_type=subject_type, subject_id=subject_id,
        status="pending", requested_at=utcnow()))


async def list_hits(db: AsyncSession, *, org_id: str, status: str | None, actor_id: UUID | None,
                    limit: int, offset: int) -> tuple[list[tuple[ScreeningHitRow, WatchlistRow]], int]:
    return await repository.list_hits(db, org_id=org_id, status=status, actor_id=actor_id,
                                      limit=limit, offset=offset)


async def get_hit(db: AsyncSession, hit_id: UUID, *, org_id: str) -> tuple[ScreeningHitRow, WatchlistRow]:
    return await repository.get_hit(db, hit_id, org_id=org_id)


async def confirm_hit(db: AsyncSession, hit_id: UUID, *, org_id: str, user_id: str,
                      reason: str) -> tuple[ScreeningHitRow, WatchlistRow]:
    """A true match: the hit keeps blocking the actor's approval."""
    return await _decide_and_tell(db, hit_id, HitStatus.CONFIRMED, org_id=org_id, user_id=user_id, reason=reason)


async def dismiss_hit(db: AsyncSession, hit_id: UUID, *, org_id: str, user_id: str,
                      reason: str) -> tuple[ScreeningHitRow, WatchlistRow]:
    """A false positive: not raised again until the list entry or the subject changes."""
    return await _decide_and_tell(db, hit_id, HitStatus.DISMISSED, org_id=org_id, user_id=user_id, reason=reason)


async def _decide_and_tell(db: AsyncSession, hit_id: UUID, status: HitStatus, *, org_id: str, user_id: str,
                           reason: str) -> tuple[ScreeningHitRow, WatchlistRow]:
    hit, watchlist = await _decide(db, hit_id, status, org_id=org_id, user_id=user_id, reason=reason)
    event = HitConfirmed if status is HitStatus.CONFIRMED else HitDismissed
    actor = await actor_repository.get_actor(db, hit.actor_id, org_id=hit.org_id)
    await announce.actor_event(db, actor, event, hit_id=hit.id, subject_type=hit.subject_type,
                               subject_id=hit.subject_id, list_name=watchlist.name, entry_id=hit.entry_id,
                               decided_by=user_id, reason=hit.reason or "")
    return hit, watchlist


async def _decide(db: AsyncSession, hit_id: UUID, status: HitStatus, *, org_id: str, user_id: str,
                  reason: str) -> tuple[ScreeningHitRow, WatchlistRow]:
    hit, watchlist = await repository.get_hit(db, hit_id, org_id=org_id, for_update=True)
    rules.decide(hit, status, user_id=user_id, reason=reason, now=utcnow())
    repository.save_hit(db, hit)
    history.record(db, org_id=hit.org_id, user_id=user_id, entity_type="screening_hit", entity_id=hit.id,
                   action=status.value, actor_id=hit.actor_id,
                   changes={"status": {"before": "pending", "after": status.value}, "reason": hit.reason,
                            "watchlist": watchlist.name, "entry_id": hit.entry_id,
                            "subject": f"{hit.subject_type} {hit.subject_id}"})
    return hit, watchlist


async def actor_screening(db: AsyncSession, actor_id: UUID, *, org_id: str) -> ActorScreening:
    await actor_repository.get_actor(db, actor_id, org_id=org_id)
    counts = await repository.count_actor_hits(db, actor_id)
    return ActorScreening(
        actor_id=actor_id, pending_hits=counts.get(HitStatus.PENDING, 0),
        confirmed_hits=counts.get(HitStatus.CONFIRMED, 0), dismissed_hits=counts.get(HitStatus.DISMISSED, 0),
        pending_screenings=await repository.count_pending_screenings(db, actor_id=actor_id),
        last_screened_at=await repository.last_screened_at(db, actor_id))

"""Review dates: overdue reviews listed, and announced once per actor and review date by the scheduled job."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.pagination import Pagination
from services.kyc.domain.actors import Actor
from services.kyc.domain.history import SYSTEM
from services.kyc.domain.workflow import REVIEWED
from services.kyc.repository import actors as repository
from services.kyc.use_cases import announce, history

BATCH = 1000


async def list_overdue_reviews(
    db: AsyncSession, principal: Principal, *, today: date, page: Pagination
) -> tuple[list[Actor], int]:
    """Approved or suspended actors whose next review date has passed, the longest overdue first."""
    return await repository.list_overdue(db, org_id=principal.org_id, statuses=REVIEWED, today=today, page=page)


async def announce_overdue_reviews(db: AsyncSession, now: datetime) -> int:
    """Scheduled: ReviewOverdue once per actor and review date (marked on the actor in the same transaction)."""
    actors = await repository.claim_overdue_unannounced(db, statuses=REVIEWED, today=now.date(), limit=BATCH)
    for actor in actors:
        await announce.save_actor(db, actor, actor.announce_review_overdue())
        history.record(
            db,
            org_id=actor.org_id,
            user_id=SYSTEM,
            entity_type="actor",
            entity_id=actor.id,
            action="review_overdue",
            actor_id=actor.id,
            changes={"review_overdue_for": {"before": None, "after": actor.next_review_date}},
        )
    return len(actors)

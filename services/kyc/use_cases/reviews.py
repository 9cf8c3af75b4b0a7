"""Review dates: overdue reviews listed and announced, and reviews brought forward by material changes."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.events.kyc import ReviewOverdue
from services.kyc.domain.workflow import REVIEWED
from services.kyc.repository import actors as repository
from services.kyc.tables.register import ActorRow
from services.kyc.use_cases import announce, history

BATCH = 1000


async def list_overdue(db: AsyncSession, *, org_id: str, today: date, limit: int,
                       offset: int) -> tuple[list[ActorRow], int]:
    """Approved or suspended actors whose next review date has passed, the longest overdue first."""
    return await repository.list_overdue(db, org_id=org_id, statuses=REVIEWED, today=today, limit=limit,
                                         offset=offset)


async def announce_overdue_reviews(db: AsyncSession, now: datetime) -> int:
    """Scheduled: ReviewOverdue once per actor and review date (marked on the actor in the same transaction)."""
    rows = await repository.claim_overdue_unnotified(db, statuses=REVIEWED, today=now.date(), limit=BATCH)
    for row in rows:
        row.overdue_notified_for = row.next_review_date
        await announce.actor_event(db, row, ReviewOverdue, next_review_date=row.next_review_date)
        history.record(db, org_id=row.org_id, user_id=history.SYSTEM, entity_type="actor", entity_id=row.id,
                       action="review_overdue", actor_id=row.id,
                       changes={"review_overdue_for": {"before": None, "after": row.next_review_date}})
    return len(rows)


def bring_review_forward(row: ActorRow, today: date) -> dict[str, Any]:
    """A material change to an approved (or suspended) actor makes its review due today; returns the change."""
    if row.kyc_status not in REVIEWED or (row.next_review_date is not None and row.next_review_date <= today):
        return {}
    before, row.next_review_date = row.next_review_date, today
    return {"next_review_date": {"before": before, "after": today}}

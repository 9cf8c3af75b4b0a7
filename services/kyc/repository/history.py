"""Queries of the audit trail."""
from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.kyc.tables.register import AuditEntryRow


def save_entry(db: AsyncSession, row: AuditEntryRow) -> None:
    db.add(row)


async def list_actor_entries(db: AsyncSession, *, org_id: str, actor_id: UUID, entity_ids: Sequence[str],
                             limit: int, offset: int) -> tuple[list[AuditEntryRow], int]:
    """Entries filed under the actor, plus those of its parts recorded without an actor id."""
    conditions = [AuditEntryRow.org_id == org_id,
                  sa.or_(AuditEntryRow.actor_id == actor_id, AuditEntryRow.entity_id.in_(list(entity_ids)))]
    total = (await db.execute(sa.select(sa.func.count()).select_from(AuditEntryRow).where(*conditions))).scalar_one()
    query = (sa.select(AuditEntryRow).where(*conditions).order_by(AuditEntryRow.at, AuditEntryRow.id)
             .limit(limit).offset(offset))
    return list((await db.execute(query)).scalars()), total

"""Actor shares as stored: which other organisations may read which actor."""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import dialect_of, insert
from services.kyc.domain.actors import Share
from services.kyc.repository.rows import column_values, from_row
from services.kyc.tables.register import ActorShareRow

Shares = ActorShareRow.__table__


async def find_share(db: AsyncSession, *, actor_id: UUID, grantee_org_id: str) -> Share | None:
    query = sa.select(Shares).where(Shares.c.actor_id == actor_id, Shares.c.grantee_org_id == grantee_org_id)
    row = (await db.execute(query)).one_or_none()
    return None if row is None else from_row(Share, row)


async def list_shares(db: AsyncSession, *, actor_id: UUID) -> list[Share]:
    query = (
        sa.select(Shares).where(Shares.c.actor_id == actor_id).order_by(Shares.c.granted_at, Shares.c.grantee_org_id)
    )
    return [from_row(Share, r) for r in (await db.execute(query)).all()]


async def save_share(db: AsyncSession, share: Share) -> None:
    """Idempotent: a share already there stays as it was granted."""
    statement = insert(dialect_of(db), Shares).values(**column_values(share, Shares))
    await db.execute(statement.on_conflict_do_nothing(index_elements=[Shares.c.actor_id, Shares.c.grantee_org_id]))


async def delete_share(db: AsyncSession, *, actor_id: UUID, grantee_org_id: str) -> None:
    await db.execute(sa.delete(Shares).where(Shares.c.actor_id == actor_id, Shares.c.grantee_org_id == grantee_org_id))

"""Queries of actor shares: which other organisations may read which actor."""
from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.kyc.tables.register import ActorShareRow


async def find_share(db: AsyncSession, *, actor_id: UUID, grantee_org_id: str) -> ActorShareRow | None:
    return await db.get(ActorShareRow, (actor_id, grantee_org_id))


async def list_shares(db: AsyncSession, *, actor_id: UUID) -> list[ActorShareRow]:
    query = (sa.select(ActorShareRow).where(ActorShareRow.actor_id == actor_id)
             .order_by(ActorShareRow.granted_at, ActorShareRow.grantee_org_id))
    return list((await db.execute(query)).scalars())


async def list_grantees(db: AsyncSession, *, actor_id: UUID) -> list[str]:
    query = (sa.select(ActorShareRow.grantee_org_id).where(ActorShareRow.actor_id == actor_id)
             .order_by(ActorShareRow.grantee_org_id))
    return list((await db.execute(query)).scalars())


async def save_share(db: AsyncSession, row: ActorShareRow) -> None:
    db.add(row)
    await db.flush()


async def delete_share(db: AsyncSession, row: ActorShareRow) -> None:
    await db.delete(row)
    await db.flush()

"""Every query of the traceability service; every read is scoped to the caller's organisation."""
from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.errors import NotFound
from services.traceability.tables import KnownActorRow


async def find_known_actor(db: AsyncSession, actor_id: UUID) -> KnownActorRow | None:
    return await db.get(KnownActorRow, actor_id)


async def get_known_actor(db: AsyncSession, actor_id: UUID, *, org_id: str) -> KnownActorRow:
    row = await db.get(KnownActorRow, actor_id)
    if row is None or row.org_id != org_id:
        raise NotFound(f"actor {actor_id} is not known here")
    return row


async def list_known_actors(db: AsyncSession, *, org_id: str, status: str | None = None,
                            limit: int = 100, offset: int = 0) -> list[KnownActorRow]:
    query = sa.select(KnownActorRow).where(KnownActorRow.org_id == org_id)
    if status:
        query = query.where(KnownActorRow.kyc_status == status)
    query = query.order_by(KnownActorRow.legal_name, KnownActorRow.actor_id).limit(limit).offset(offset)
    return list((await db.execute(query)).scalars())


def save_known_actor(db: AsyncSession, row: KnownActorRow) -> None:
    db.add(row)

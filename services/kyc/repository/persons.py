"""Queries of an actor's beneficial owners and key persons."""
from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.errors import NotFound
from services.kyc.tables.register import PersonRow


async def get_person(db: AsyncSession, person_id: UUID, *, org_id: str, actor_id: UUID | None = None) -> PersonRow:
    """A person of the caller's register (and of `actor_id`, when given)."""
    row = await db.get(PersonRow, person_id)
    if row is None or row.org_id != org_id or (actor_id is not None and row.actor_id != actor_id):
        raise NotFound(f"person {person_id} not found", code="person_not_found")
    return row


async def list_persons(db: AsyncSession, *, actor_id: UUID) -> list[PersonRow]:
    query = sa.select(PersonRow).where(PersonRow.actor_id == actor_id).order_by(PersonRow.created_at, PersonRow.id)
    return list((await db.execute(query)).scalars())


async def list_person_ids(db: AsyncSession, *, actor_id: UUID) -> list[UUID]:
    return list((await db.execute(sa.select(PersonRow.id).where(PersonRow.actor_id == actor_id))).scalars())


def save_person(db: AsyncSession, row: PersonRow) -> None:
    db.add(row)


async def delete_person(db: AsyncSession, row: PersonRow) -> None:
    await db.delete(row)
    await db.flush()

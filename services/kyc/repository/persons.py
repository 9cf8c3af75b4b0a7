"""An actor's beneficial owners and key persons as stored; read within the caller's organisation."""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import upsert
from libs.common.errors import NotFound
from services.kyc.domain.persons import Person
from services.kyc.repository.rows import column_values, from_row
from services.kyc.tables.register import PersonRow

Persons = PersonRow.__table__


async def get_person(db: AsyncSession, person_id: UUID, *, org_id: str, actor_id: UUID | None = None) -> Person:
    """A person of the caller's register (and of `actor_id`, when given)."""
    query = sa.select(Persons).where(Persons.c.id == person_id, Persons.c.org_id == org_id)
    if actor_id is not None:
        query = query.where(Persons.c.actor_id == actor_id)
    row = (await db.execute(query)).one_or_none()
    if row is None:
        raise NotFound(f"person {person_id} not found", code="person_not_found")
    return from_row(Person, row)


async def list_persons(db: AsyncSession, *, actor_id: UUID) -> list[Person]:
    query = sa.select(Persons).where(Persons.c.actor_id == actor_id).order_by(Persons.c.created_at, Persons.c.id)
    return [from_row(Person, r) for r in (await db.execute(query)).all()]


async def list_person_ids(db: AsyncSession, *, actor_id: UUID) -> list[UUID]:
    return list((await db.execute(sa.select(Persons.c.id).where(Persons.c.actor_id == actor_id))).scalars())


async def save_person(db: AsyncSession, person: Person) -> None:
    await upsert(db, Persons, column_values(person, Persons), keys=["id"])


async def delete_person(db: AsyncSession, person: Person) -> None:
    await db.execute(sa.delete(Persons).where(Persons.c.id == person.id))

"""Queries of screening requests and hits, and of the subjects the screening job reads from the register."""
from __future__ import annotations

from datetime import datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.errors import NotFound
from services.kyc.domain.screening import SNAPSHOT, HitStatus
from services.kyc.tables.register import ActorRow, PersonRow
from services.kyc.tables.screening import (
    ScreeningHitRow,
    ScreeningRequestRow,
    WatchlistRow,
)

OPEN = (HitStatus.PENDING.value, HitStatus.CONFIRMED.value)


async def count_blocking_hits(db: AsyncSession, *, actor_id: UUID) -> int:
    """Hits of the actor or its persons that are pending review or confirmed as true matches; hits of a person
    since removed from the actor no longer count."""
    persons = sa.select(PersonRow.id).where(PersonRow.actor_id == actor_id)
    query = sa.select(sa.func.count()).select_from(ScreeningHitRow).where(
        ScreeningHitRow.actor_id == actor_id, ScreeningHitRow.status.in_(OPEN),
        sa.or_(ScreeningHitRow.subject_type == "actor", ScreeningHitRow.subject_id.in_(persons)))
    return (await db.execute(query)).scalar_one()


async def count_pending_screenings(db: AsyncSession, *, actor_id: UUID) -> int:
    """Screenings not yet run for the actor or its persons, including re-screens of a newly imported list."""
    org = sa.select(ActorRow.org_id).where(ActorRow.id == actor_id).scalar_subquery()
    query = sa.select(sa.func.count()).select_from(ScreeningRequestRow).where(
        ScreeningRequestRow.status == "pending",
        sa.or_(ScreeningRequestRow.actor_id == actor_id,
               sa.and_(ScreeningRequestRow.subject_type == SNAPSHOT, ScreeningRequestRow.org_id == org)))
    return (await db.execute(query)).scalar_one()


def save_request(db: AsyncSession, row: ScreeningRequestRow) -> None:
    db.add(row)


async def claim_pending_requests(db: AsyncSession, *, limit: int) -> list[ScreeningRequestRow]:
    """The oldest pending requests, locked until the caller's transaction ends; other workers skip them."""
    query = (sa.select(ScreeningRequestRow).where(ScreeningRequestRow.status == "pending")
             .order_by(ScreeningRequestRow.requested_at, ScreeningRequestRow.id).limit(limit)
             .with_for_update(skip_locked=True))
    return list((await db.execute(query)).scalars())


async def find_actor(db: AsyncSession, actor_id: UUID) -> ActorRow | None:
    return await db.get(ActorRow, actor_id)


async def find_person(db: AsyncSession, person_id: UUID) -> PersonRow | None:
    return await db.get(PersonRow, person_id)


async def list_org_actors(db: AsyncSession, *, org_id: str) -> list[ActorRow]:
    query = sa.select(ActorRow).where(ActorRow.org_id == org_id).order_by(ActorRow.id)
    return list((await db.execute(query)).scalars())


async def list_org_persons(db: AsyncSession, *, org_id: str) -> list[PersonRow]:
    query = sa.select(PersonRow).where(PersonRow.org_id == org_id).order_by(PersonRow.id)
    return list((await db.execute(query)).scalars())


async def list_subject_hits(db: AsyncSession, subject_id: UUID) -> list[ScreeningHitRow]:
    query = sa.select(ScreeningHitRow).where(ScreeningHitRow.subject_id == subject_id)
    return list((await db.execute(query)).scalars())


async def count_open_hits(db: AsyncSession, subject_id: UUID) -> int:
    query = sa.select(sa.func.count()).select_from(ScreeningHitRow).where(
        ScreeningHitRow.subject_id == subject_id, ScreeningHitRow.status.in_(OPEN))
    return (await db.execute(query)).scalar_one()


def save_hit(db: AsyncSession, row: ScreeningHitRow) -> None:
    db.add(row)


async def get_hit(db: AsyncSession, hit_id: UUID, *, org_id: str,
                  for_update: bool = False) -> tuple[ScreeningHitRow, WatchlistRow]:
    """A hit of the caller's organisation, with its list; `for_update` makes two decisions queue up."""
    query = (sa.select(ScreeningHitRow, WatchlistRow).join(WatchlistRow, WatchlistRow.id == ScreeningHitRow.watchlist_id)
             .where(ScreeningHitRow.id == hit_id, ScreeningHitRow.org_id == org_id))
    if for_update:
        query = query.with_for_update(of=ScreeningHitRow).execution_options(populate_existing=True)
    row = (await db.execute(query)).first()
    if row is None:
        raise NotFound(f"screening hit {hit_id} not found", code="hit_not_found")
    return row[0], row[1]


async def list_hits(db: AsyncSession, *, org_id: str, status: str | None, actor_id: UUID | None,
                    limit: int, offset: int) -> tuple[list[tuple[ScreeningHitRow, WatchlistRow]], int]:
    conditions = [ScreeningHitRow.org_id == org_id]
    if status:
        conditions.append(ScreeningHitRow.status == status)
    if actor_id:
        conditions.append(ScreeningHitRow.actor_id == actor_id)
    total = (await db.execute(sa.select(sa.func.count()).select_from(ScreeningHitRow).where(*conditions)))
    query = (sa.select(ScreeningHitRow, WatchlistRow).join(WatchlistRow, WatchlistRow.id == ScreeningHitRow.watchlist_id)
             .where(*conditions).order_by(ScreeningHitRow.score.desc(), ScreeningHitRow.created_at,
                                          ScreeningHitRow.id).limit(limit).offset(offset))
    return [(r[0], r[1]) for r in (await db.execute(query)).all()], total.scalar_one()


async def last_screened_at(db: AsyncSession, actor_id: UUID) -> datetime | None:
    """When a screening of the actor or one of its persons last ran."""
    query = sa.select(sa.func.max(ScreeningRequestRow.completed_at)).where(ScreeningRequestRow.actor_id == actor_id)
    return (await db.execute(query)).scalar_one()


async def count_actor_hits(db: AsyncSession, actor_id: UUID) -> dict[str, int]:
    """{status: hits} of the actor and its persons."""
    query = (sa.select(ScreeningHitRow.status, sa.func.count()).where(ScreeningHitRow.actor_id == actor_id)
             .group_by(ScreeningHitRow.status))
    return {status: n for status, n in (await db.execute(query)).all()}

"""Queries of licences and permits, including the expiry scans of the scheduled job."""
from __future__ import annotations

from datetime import date
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.errors import Conflict, NotFound
from services.kyc.tables.register import ActorRow, LicenceRow


async def get_licence(db: AsyncSession, licence_id: UUID, *, org_id: str, for_update: bool = False) -> LicenceRow:
    query = sa.select(LicenceRow).where(LicenceRow.id == licence_id, LicenceRow.org_id == org_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    row = (await db.execute(query)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"licence {licence_id} not found", code="licence_not_found")
    return row


async def list_licences(db: AsyncSession, *, actor_id: UUID) -> list[LicenceRow]:
    query = sa.select(LicenceRow).where(LicenceRow.actor_id == actor_id).order_by(LicenceRow.valid_to, LicenceRow.id)
    return list((await db.execute(query)).scalars())


async def list_org_licences(db: AsyncSession, *, org_id: str, licence_type: str | None, valid_to_before: date | None,
                            limit: int, offset: int) -> tuple[list[LicenceRow], int]:
    conditions = [LicenceRow.org_id == org_id]
    if licence_type:
        conditions.append(LicenceRow.licence_type == licence_type)
    if valid_to_before:
        conditions.append(LicenceRow.valid_to < valid_to_before)
    total = (await db.execute(sa.select(sa.func.count()).select_from(LicenceRow).where(*conditions))).scalar_one()
    query = (sa.select(LicenceRow).where(*conditions).order_by(LicenceRow.valid_to, LicenceRow.id)
             .limit(limit).offset(offset))
    return list((await db.execute(query)).scalars()), total


async def list_licence_ids(db: AsyncSession, *, actor_id: UUID) -> list[UUID]:
    return list((await db.execute(sa.select(LicenceRow.id).where(LicenceRow.actor_id == actor_id))).scalars())


async def save_licence(db: AsyncSession, row: LicenceRow) -> None:
    try:
        async with db.begin_nested():
            db.add(row)
            await db.flush()
    except IntegrityError as exc:
        if any(name in str(exc.orig) for name in ("uq_licence_number", "licence.number")):
            raise Conflict(f"this actor already has a {row.licence_type} numbered {row.number}",
                           code="duplicate_licence") from exc
        raise


def _claim(query: sa.Select, limit: int) -> sa.Select:
    # Rows another transaction holds are left for the next run; each row is marked when it is announced.
    return query.order_by(LicenceRow.valid_to, LicenceRow.id).limit(limit).with_for_update(skip_locked=True)


async def claim_expiring(db: AsyncSession, *, today: date, cutoff: date, limit: int) -> list[LicenceRow]:
    """Licences whose last valid day is between today and `cutoff`, not yet announced as expiring."""
    query = sa.select(LicenceRow).where(LicenceRow.valid_to >= today, LicenceRow.valid_to <= cutoff,
                                        LicenceRow.expiring_notified_at.is_(None))
    return list((await db.execute(_claim(query, limit))).scalars())


async def claim_expired(db: AsyncSession, *, today: date, limit: int) -> list[LicenceRow]:
    """Licences whose last valid day has passed, not yet announced as expired."""
    query = sa.select(LicenceRow).where(LicenceRow.valid_to < today, LicenceRow.expired_notified_at.is_(None))
    return list((await db.execute(_claim(query, limit))).scalars())


async def valid_licence_exists(db: AsyncSession, *, actor_id: UUID, on: date) -> bool:
    query = sa.select(LicenceRow.id).where(
        LicenceRow.actor_id == actor_id, LicenceRow.valid_from <= on,
        sa.or_(LicenceRow.valid_to.is_(None), LicenceRow.valid_to >= on)).limit(1)
    return (await db.execute(query)).first() is not None


async def actor_of(db: AsyncSession, licence: LicenceRow) -> ActorRow:
    actor = await db.get(ActorRow, licence.actor_id)
    assert actor is not None  # the foreign key guarantees it
    return actor

"""Licences and permits as stored, including the expiry scans of the scheduled job."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import upsert
from libs.common.errors import Conflict, NotFound
from libs.common.pagination import Pagination, fetch_page
from services.kyc.domain.licences import Licence, expiring_cutoff
from services.kyc.repository.rows import column_values, from_row, unique_violation
from services.kyc.tables.register import ActorShareRow, LicenceRow

Licences, Shares = LicenceRow.__table__, ActorShareRow.__table__


def _not_found(licence_id: UUID) -> NotFound:
    return NotFound(f"licence {licence_id} not found", code="licence_not_found")


def _visible_to(org_id: str) -> sa.ColumnElement[bool]:
    """The organisation's own licences and those of actors shared with it."""
    shared = sa.select(Shares.c.actor_id).where(Shares.c.grantee_org_id == org_id)
    return sa.or_(Licences.c.org_id == org_id, Licences.c.actor_id.in_(shared))


async def get_licence(db: AsyncSession, licence_id: UUID, *, org_id: str, for_update: bool = False) -> Licence:
    """A licence of the caller's register; `for_update` holds it against the expiry job until the transaction ends."""
    licence = await find_licence(db, licence_id, org_id=org_id, for_update=for_update)
    if licence is None:
        raise _not_found(licence_id)
    return licence


async def find_licence(db: AsyncSession, licence_id: UUID, *, org_id: str, for_update: bool = False) -> Licence | None:
    query = sa.select(Licences).where(Licences.c.id == licence_id, Licences.c.org_id == org_id)
    if for_update:
        query = query.with_for_update(key_share=True)
    row = (await db.execute(query)).one_or_none()
    return None if row is None else from_row(Licence, row)


async def find_visible_licence(db: AsyncSession, licence_id: UUID, *, org_id: str) -> Licence | None:
    """A licence the organisation owns or reads through a share of its actor."""
    query = sa.select(Licences).where(Licences.c.id == licence_id, _visible_to(org_id))
    row = (await db.execute(query)).one_or_none()
    return None if row is None else from_row(Licence, row)


async def get_visible_licence(db: AsyncSession, licence_id: UUID, *, org_id: str) -> Licence:
    """The same, or 404 licence_not_found naming nothing but the id asked for."""
    licence = await find_visible_licence(db, licence_id, org_id=org_id)
    if licence is None:
        raise _not_found(licence_id)
    return licence


async def list_licences(db: AsyncSession, *, actor_id: UUID) -> list[Licence]:
    query = sa.select(Licences).where(Licences.c.actor_id == actor_id).order_by(Licences.c.valid_to, Licences.c.id)
    return [from_row(Licence, r) for r in (await db.execute(query)).all()]


async def list_visible_licences(
    db: AsyncSession,
    *,
    org_id: str,
    licence_type: str | None,
    valid_to_before: date | None,
    page: Pagination,
    state: str | None = None,
    today: date | None = None,
    lead_days: int = 0,
) -> tuple[list[Licence], int]:
    query = sa.select(Licences).where(_visible_to(org_id))
    if licence_type:
        query = query.where(Licences.c.licence_type == licence_type)
    if valid_to_before:
        query = query.where(Licences.c.valid_to < valid_to_before)
    if state and today is not None:
        query = query.where(_in_state(state, today=today, cutoff=expiring_cutoff(today, lead_days)))
    rows, total = await fetch_page(db, query.order_by(Licences.c.valid_to, Licences.c.id), page)
    return [from_row(Licence, r) for r in rows], total


async def list_licence_ids(db: AsyncSession, *, actor_id: UUID) -> list[UUID]:
    return list((await db.execute(sa.select(Licences.c.id).where(Licences.c.actor_id == actor_id))).scalars())


async def save_licence(db: AsyncSession, licence: Licence) -> None:
    try:
        await upsert(db, Licences, column_values(licence, Licences), keys=["id"])
    except IntegrityError as exc:
        if unique_violation(exc) == "uq_licence_number":
            raise Conflict(
                f"this actor already has a {licence.licence_type} numbered {licence.number}", code="duplicate_licence"
            ) from exc
        raise


def _in_state(state: str, *, today: date, cutoff: date) -> sa.ColumnElement[bool]:
    """The SQL of domain.licences.state: the same order of tests (not yet valid, expired, expiring, valid)."""
    started, end = Licences.c.valid_from <= today, Licences.c.valid_to
    conditions = {
        "not_yet_valid": Licences.c.valid_from > today,
        "expired": sa.and_(started, end < today),
        "expiring": sa.and_(started, end >= today, end <= cutoff),
        "valid": sa.and_(started, sa.or_(end.is_(None), end > cutoff)),
    }
    return conditions[state]


def _claim(query: sa.Select, limit: int) -> sa.Select:
    # Rows another transaction holds are left for the next run; each row is marked when it is announced.
    return (
        query.order_by(Licences.c.valid_to, Licences.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True, key_share=True)
    )


async def claim_expiring(db: AsyncSession, *, today: date, cutoff: date, limit: int) -> list[Licence]:
    """Licences whose last valid day is between today and `cutoff`, not yet announced as expiring."""
    query = sa.select(Licences).where(
        Licences.c.valid_to >= today, Licences.c.valid_to <= cutoff, Licences.c.expiring_notified_at.is_(None)
    )
    return [from_row(Licence, r) for r in (await db.execute(_claim(query, limit))).all()]


async def claim_expired(db: AsyncSession, *, today: date, limit: int) -> list[Licence]:
    """Licences whose last valid day has passed, not yet announced as expired."""
    query = sa.select(Licences).where(Licences.c.valid_to < today, Licences.c.expired_notified_at.is_(None))
    return [from_row(Licence, r) for r in (await db.execute(_claim(query, limit))).all()]


async def valid_licence_exists(db: AsyncSession, *, actor_id: UUID, on: date) -> bool:
    query = (
        sa.select(Licences.c.id)
        .where(
            Licences.c.actor_id == actor_id,
            Licences.c.valid_from <= on,
            sa.or_(Licences.c.valid_to.is_(None), Licences.c.valid_to >= on),
        )
        .limit(1)
    )
    return (await db.execute(query)).first() is not None

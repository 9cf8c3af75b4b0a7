"""Queries of actors; owners see their register, grantees see only what was shared with them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.errors import Conflict, NotFound
from services.kyc.tables.register import ActorRow, ActorShareRow


@dataclass(frozen=True)
class ActorFilter:
    kyc_status: str | None = None
    actor_type: str | None = None
    country: str | None = None
    region: str | None = None
    risk_level: str | None = None
    mineral: str | None = None
    name: str | None = None


def _not_found(actor_id: UUID) -> NotFound:
    return NotFound(f"actor {actor_id} not found", code="actor_not_found")


async def get_actor(db: AsyncSession, actor_id: UUID, *, org_id: str, for_update: bool = False) -> ActorRow:
    """An actor of the caller's own register; `for_update` locks it until the transaction ends."""
    query = sa.select(ActorRow).where(ActorRow.id == actor_id, ActorRow.org_id == org_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    row = (await db.execute(query)).scalar_one_or_none()
    if row is None:
        raise _not_found(actor_id)
    return row


def _visible_to(org_id: str) -> sa.ColumnElement[bool]:
    shared = sa.select(ActorShareRow.actor_id).where(ActorShareRow.grantee_org_id == org_id)
    return sa.or_(ActorRow.org_id == org_id, ActorRow.id.in_(shared))


async def get_visible_actor(db: AsyncSession, actor_id: UUID, *, org_id: str) -> ActorRow:
    """An actor the caller's organisation owns or was shared with."""
    query = sa.select(ActorRow).where(ActorRow.id == actor_id, _visible_to(org_id))
    row = (await db.execute(query)).scalar_one_or_none()
    if row is None:
        raise _not_found(actor_id)
    return row


async def list_actors(db: AsyncSession, *, org_id: str, where: ActorFilter, limit: int,
                      offset: int) -> tuple[list[ActorRow], int]:
    conditions = [_visible_to(org_id), *_conditions(where, dialect=db.bind.dialect.name)]
    total = (await db.execute(sa.select(sa.func.count()).select_from(ActorRow).where(*conditions))).scalar_one()
    query = (sa.select(ActorRow).where(*conditions).order_by(ActorRow.legal_name, ActorRow.id)
             .limit(limit).offset(offset))
    return list((await db.execute(query)).scalars()), total


def _conditions(where: ActorFilter, *, dialect: str) -> list[sa.ColumnElement[bool]]:
    conditions = [column == value for column, value in (
        (ActorRow.kyc_status, where.kyc_status), (ActorRow.actor_type, where.actor_type),
        (ActorRow.country, where.country), (ActorRow.region, where.region),
        (ActorRow.risk_level, where.risk_level)) if value is not None]
    if where.mineral:
        # HS codes are digits only, so the quoted code matches one whole list element.
        conditions.append(sa.cast(ActorRow.minerals, sa.Text).contains(f'"{where.mineral}"'))
    if where.name:
        pattern = "%" + where.name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(sa.or_(ActorRow.legal_name.ilike(pattern, escape="\\"),
                                 _any_alias_like(pattern, dialect=dialect)))
    return conditions


def _any_alias_like(pattern: str, *, dialect: str) -> sa.ColumnElement[bool]:
    each = sa.func.json_array_elements_text if dialect == "postgresql" else sa.func.json_each
    aliases = each(ActorRow.aliases).table_valued("value")
    return sa.select(1).select_from(aliases).where(aliases.c.value.ilike(pattern, escape="\\")).exists()


async def find_by_registration(db: AsyncSession, *, org_id: str, country: str, registration_number: str,
                               exclude_id: UUID | None = None) -> ActorRow | None:
    query = sa.select(ActorRow).where(ActorRow.org_id == org_id, ActorRow.country == country,
                                      ActorRow.registration_number == registration_number)
    if exclude_id is not None:
        query = query.where(ActorRow.id != exclude_id)
    return (await db.execute(query.limit(1))).scalar_one_or_none()


async def save_actor(db: AsyncSession, row: ActorRow) -> None:
    """Write now, so a registration number taken by a concurrent writer is a clear 409, not a failed commit."""
    try:
        async with db.begin_nested():
            db.add(row)
            await db.flush()
    except IntegrityError as exc:
        # PostgreSQL names the index; SQLite names the columns.
        if any(name in str(exc.orig) for name in ("uq_actor_registration", "actor.registration_number")):
            raise Conflict(f"registration number {row.registration_number} is already registered in "
                           f"{row.country}", code="duplicate_registration") from exc
        raise


async def next_event(db: AsyncSession, actor_id: UUID) -> ActorRow:
    """The actor as stored now, with `event_seq` one higher: the number of its next event. The UPDATE holds the row
    lock to the end of the transaction, so two writers never take one number, the later one reads what the earlier
    one committed (not what it read before), and stages its outbox row after the earlier one's."""
    await db.flush()  # our own changes first, so the row read back holds them
    query = (sa.update(ActorRow).where(ActorRow.id == actor_id).values(event_seq=ActorRow.event_seq + 1)
             .returning(ActorRow).execution_options(populate_existing=True))
    return (await db.execute(query)).scalar_one()


async def next_event_seq(db: AsyncSession, actor_id: UUID) -> int:
    """Only the number (for events that carry no actor state), under the same row lock."""
    query = (sa.update(ActorRow).where(ActorRow.id == actor_id).values(event_seq=ActorRow.event_seq + 1)
             .returning(ActorRow.event_seq).execution_options(synchronize_session="fetch"))
    return (await db.execute(query)).scalar_one()


async def list_overdue(db: AsyncSession, *, org_id: str, statuses: frozenset[str], today: date, limit: int,
                       offset: int) -> tuple[list[ActorRow], int]:
    conditions = [ActorRow.org_id == org_id, ActorRow.kyc_status.in_(statuses), ActorRow.next_review_date < today]
    total = (await db.execute(sa.select(sa.func.count()).select_from(ActorRow).where(*conditions))).scalar_one()
    query = (sa.select(ActorRow).where(*conditions).order_by(ActorRow.next_review_date, ActorRow.id)
             .limit(limit).offset(offset))
    return list((await db.execute(query)).scalars()), total


async def claim_overdue_unnotified(db: AsyncSession, *, statuses: frozenset[str], today: date,
                                   limit: int) -> list[ActorRow]:
    """Overdue actors (every organisation) not yet announced for their current review date, locked."""
    query = (sa.select(ActorRow)
             .where(ActorRow.kyc_status.in_(statuses), ActorRow.next_review_date < today,
                    sa.or_(ActorRow.overdue_notified_for.is_(None),
                           ActorRow.overdue_notified_for != ActorRow.next_review_date))
             .order_by(ActorRow.next_review_date, ActorRow.id).limit(limit)
             .with_for_update(skip_locked=True))
    return list((await db.execute(query)).scalars())

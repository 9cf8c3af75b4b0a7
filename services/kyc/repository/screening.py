"""Screening requests and hits as stored, and the subjects the screening job reads from the register."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import upsert
from libs.common.errors import NotFound
from libs.common.pagination import Pagination, fetch_page
from services.kyc.domain import screening as rules
from services.kyc.domain.screening import (
    SNAPSHOT,
    Hit,
    HitStatus,
    ScreenedSubject,
    ScreeningGate,
    ScreeningRequest,
)
from services.kyc.repository.rows import column_values, from_row
from services.kyc.tables.register import ActorRow, PersonRow
from services.kyc.tables.screening import (
    ScreeningHitRow,
    ScreeningRequestRow,
    WatchlistRow,
)

Actors, Persons = ActorRow.__table__, PersonRow.__table__
Requests, Hits, Watchlists = ScreeningRequestRow.__table__, ScreeningHitRow.__table__, WatchlistRow.__table__
OPEN = (HitStatus.PENDING.value, HitStatus.CONFIRMED.value)


async def screening_gate(db: AsyncSession, *, actor_id: UUID) -> ScreeningGate:
    return ScreeningGate(
        blocking_hits=await count_blocking_hits(db, actor_id=actor_id),
        pending_screenings=await count_pending_screenings(db, actor_id=actor_id),
    )


async def count_blocking_hits(db: AsyncSession, *, actor_id: UUID) -> int:
    """Hits of the actor or its persons that are pending review or confirmed as true matches; hits of a person
    since removed from the actor no longer count."""
    persons = sa.select(Persons.c.id).where(Persons.c.actor_id == actor_id)
    query = (
        sa.select(sa.func.count())
        .select_from(Hits)
        .where(
            Hits.c.actor_id == actor_id,
            Hits.c.status.in_(OPEN),
            sa.or_(Hits.c.subject_type == "actor", Hits.c.subject_id.in_(persons)),
        )
    )
    return (await db.execute(query)).scalar_one()


async def count_pending_screenings(db: AsyncSession, *, actor_id: UUID) -> int:
    """Screenings not yet run for the actor or its persons, including re-screens of a newly imported list."""
    org = sa.select(Actors.c.org_id).where(Actors.c.id == actor_id).scalar_subquery()
    query = (
        sa.select(sa.func.count())
        .select_from(Requests)
        .where(
            Requests.c.status == "pending",
            sa.or_(
                Requests.c.actor_id == actor_id, sa.and_(Requests.c.subject_type == SNAPSHOT, Requests.c.org_id == org)
            ),
        )
    )
    return (await db.execute(query)).scalar_one()


async def save_request(db: AsyncSession, request: ScreeningRequest) -> None:
    await upsert(db, Requests, column_values(request, Requests), keys=["id"])


def request_row(request: ScreeningRequest) -> tuple[sa.Table, dict[str, Any]]:
    """A new request as a row to insert beside another write (repository.actors.insert_actor)."""
    return Requests, column_values(request, Requests)


async def claim_pending_requests(db: AsyncSession, *, limit: int) -> list[ScreeningRequest]:
    """The oldest pending requests, locked until the caller's transaction ends; other workers skip them."""
    query = (
        sa.select(Requests)
        .where(Requests.c.status == "pending")
        .order_by(Requests.c.requested_at, Requests.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [from_row(ScreeningRequest, r) for r in (await db.execute(query)).all()]


async def find_subject(db: AsyncSession, subject_type: str, subject_id: UUID) -> ScreenedSubject | None:
    """The actor or person as the engine screens it; None once removed from the register."""
    table = Actors if subject_type == "actor" else Persons
    row = (await db.execute(sa.select(table).where(table.c.id == subject_id))).one_or_none()
    if row is None:
        return None
    return _actor_subject(row) if subject_type == "actor" else _person_subject(row)


async def list_subjects(db: AsyncSession, *, org_id: str) -> list[ScreenedSubject]:
    """Every actor and person of an organisation, as the engine screens them."""
    actors = (await db.execute(sa.select(Actors).where(Actors.c.org_id == org_id).order_by(Actors.c.id))).all()
    persons = (await db.execute(sa.select(Persons).where(Persons.c.org_id == org_id).order_by(Persons.c.id))).all()
    return [*map(_actor_subject, actors), *map(_person_subject, persons)]


def _actor_subject(row: sa.Row[Any]) -> ScreenedSubject:
    subject = rules.actor_subject(
        legal_name=row.legal_name,
        aliases=row.aliases,
        country=row.country,
        registration_number=row.registration_number,
        tax_number=row.tax_number,
    )
    return ScreenedSubject("actor", row.id, row.id, row.org_id, subject)


def _person_subject(row: sa.Row[Any]) -> ScreenedSubject:
    subject = rules.person_subject(
        person_type=row.person_type,
        full_name=row.full_name,
        aliases=row.aliases,
        birth_date=row.birth_date,
        nationality=row.nationality,
        identifiers=row.identifiers,
    )
    return ScreenedSubject("person", row.id, row.actor_id, row.org_id, subject)


def _with_list_name() -> sa.Select:
    return sa.select(Hits, Watchlists.c.name.label("watchlist_name")).join(
        Watchlists, Watchlists.c.id == Hits.c.watchlist_id
    )


async def list_subject_hits(db: AsyncSession, subject_id: UUID) -> list[Hit]:
    query = sa.select(Hits).where(Hits.c.subject_id == subject_id)
    return [from_row(Hit, r) for r in (await db.execute(query)).all()]


async def count_open_hits(db: AsyncSession, subject_id: UUID) -> int:
    query = sa.select(sa.func.count()).select_from(Hits).where(Hits.c.subject_id == subject_id, Hits.c.status.in_(OPEN))
    return (await db.execute(query)).scalar_one()


async def save_hit(db: AsyncSession, hit: Hit) -> None:
    await upsert(db, Hits, column_values(hit, Hits), keys=["id"])


async def get_hit(db: AsyncSession, hit_id: UUID, *, org_id: str, for_update: bool = False) -> Hit:
    """A hit of the caller's organisation, with its list's name; `for_update` makes two decisions queue up."""
    query = _with_list_name().where(Hits.c.id == hit_id, Hits.c.org_id == org_id)
    if for_update:
        query = query.with_for_update(of=Hits)
    row = (await db.execute(query)).one_or_none()
    if row is None:
        raise NotFound(f"screening hit {hit_id} not found", code="hit_not_found")
    return from_row(Hit, row)


async def list_hits(
    db: AsyncSession, *, org_id: str, status: str | None, actor_id: UUID | None, page: Pagination
) -> tuple[list[Hit], int]:
    query = _with_list_name().where(Hits.c.org_id == org_id)
    if status:
        query = query.where(Hits.c.status == status)
    if actor_id:
        query = query.where(Hits.c.actor_id == actor_id)
    rows, total = await fetch_page(db, query.order_by(Hits.c.score.desc(), Hits.c.created_at, Hits.c.id), page)
    return [from_row(Hit, r) for r in rows], total


async def last_screened_at(db: AsyncSession, actor_id: UUID) -> datetime | None:
    """When a screening of the actor or one of its persons last ran."""
    query = sa.select(sa.func.max(Requests.c.completed_at)).where(Requests.c.actor_id == actor_id)
    return (await db.execute(query)).scalar_one()


async def count_actor_hits(db: AsyncSession, actor_id: UUID) -> dict[str, int]:
    """{status: hits} of the actor and its persons."""
    query = sa.select(Hits.c.status, sa.func.count()).where(Hits.c.actor_id == actor_id).group_by(Hits.c.status)
    return {status: n for status, n in (await db.execute(query)).all()}

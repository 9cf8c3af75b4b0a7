"""Mine sites, their inspections and status decisions as stored; every read is scoped to the caller's organisation."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import dialect_of, insert
from libs.common.errors import NotFound
from libs.common.pagination import Pagination, fetch_page
from services.kyc.domain.sites import (
    Inspection,
    MineSite,
    SiteStatus,
    StatusChange,
    StatusReason,
    lapse_dates,
)
from services.kyc.repository.rows import column_values, from_row
from services.kyc.tables.sites import (
    MineSiteRow,
    SiteInspectionRow,
    SiteStatusChangeRow,
)

Sites = MineSiteRow.__table__
Inspections = SiteInspectionRow.__table__
StatusChanges = SiteStatusChangeRow.__table__
KEPT_ON_SAVE = ("id", "org_id", "created_by", "created_at", "registered_date")
FIRST_PAGE = Pagination()


def _site(row: sa.Row[Any]) -> MineSite:
    return from_row(
        MineSite,
        row,
        status=SiteStatus(row.status),
        status_since=row.status_since_date,
        registered_on=row.registered_date,
    )


def _site_values(site: MineSite) -> dict[str, Any]:
    turns_blue, turns_red = lapse_dates(site)
    return {
        **column_values(site, Sites),
        "status_since_date": site.status_since,
        "registered_date": site.registered_on,
        "turns_blue_date": turns_blue,
        "turns_red_date": turns_red,
    }


async def get_site(db: AsyncSession, site_id: UUID, *, org_id: str, for_update: bool = False) -> MineSite:
    """The site; `for_update` locks it to the end of the transaction (a writer and the lapse job never interleave,
    and the state its events tell is the state that commits)."""
    query = sa.select(Sites).where(Sites.c.id == site_id, Sites.c.org_id == org_id)
    if for_update:
        query = query.with_for_update(key_share=True)
    row = (await db.execute(query)).one_or_none()
    if row is None:
        raise NotFound(f"mine site {site_id} does not exist", code="site_not_found")
    return _site(row)


async def save_site(db: AsyncSession, site: MineSite, *, events: int) -> int:
    """Write the site with the status decisions it made since it was read, and take the numbers of its next
    `events` events; returns the last one taken (the row lock is held to the end of the transaction)."""
    values = _site_values(site)
    statement = insert(dialect_of(db), Sites).values(**values, event_seq=events)
    statement = statement.on_conflict_do_update(
        index_elements=[Sites.c.id],
        set_={
            **{name: statement.excluded[name] for name in values if name not in KEPT_ON_SAVE},
            "event_seq": Sites.c.event_seq + events,
        },
    )
    last = (await db.execute(statement.returning(Sites.c.event_seq))).scalar_one()
    if site.new_decisions:
        await db.execute(sa.insert(StatusChanges), [_decision_values(site, d) for d in site.new_decisions])
        site.new_decisions.clear()
    return last


def _decision_values(site: MineSite, decision: StatusChange) -> dict[str, Any]:
    return {
        "org_id": site.org_id,
        "site_id": site.id,
        "status": decision.status.value,
        "previous_status": decision.previous.value if decision.previous else None,
        "reason": decision.reason.value,
        "effective_date": decision.on,
        "inspection_id": decision.inspection_id,
        "area_risk": decision.area_risk,
        "risk_table_version": decision.risk_table_version,
        "changed_by": decision.changed_by,
        "recorded_at": decision.recorded_at,
    }


async def take_event_numbers(db: AsyncSession, site_id: UUID, *, events: int = 1) -> int:
    """Only the numbers, for events that tell nothing of the site's state (a document filed under it)."""
    query = (
        sa.update(Sites)
        .where(Sites.c.id == site_id)
        .values(event_seq=Sites.c.event_seq + events)
        .returning(Sites.c.event_seq)
    )
    return (await db.execute(query)).scalar_one()


def _effective_status_is(status: SiteStatus, today: date) -> sa.ColumnElement[bool]:
    """SQL twin of domain.effective_status: the recorded status moved along the lapses due by `today`."""
    recorded, blue, red = Sites.c.status, Sites.c.turns_blue_date, Sites.c.turns_red_date
    not_red_yet = sa.or_(red.is_(None), red > today)
    if status is SiteStatus.RED:
        return sa.or_(recorded == status.value, red <= today)
    if status is SiteStatus.BLUE:
        lapsed_green = sa.and_(recorded == SiteStatus.GREEN.value, blue <= today)
        return sa.and_(sa.or_(recorded == status.value, lapsed_green), not_red_yet)
    if status is SiteStatus.GREEN:
        return sa.and_(recorded == status.value, blue > today)
    return recorded == status.value


async def list_sites(
    db: AsyncSession,
    *,
    org_id: str,
    today: date,
    status: SiteStatus | None = None,
    country: str | None = None,
    mineral: str | None = None,
    operator_actor_id: UUID | None = None,
    page: Pagination = FIRST_PAGE,
) -> tuple[list[MineSite], int]:
    query = sa.select(Sites).where(Sites.c.org_id == org_id)
    if status is not None:
        query = query.where(_effective_status_is(status, today))
    if country:
        query = query.where(Sites.c.country == country)
    if mineral:
        # HS codes are checked digit strings, so '"<code>' in the JSON text matches a listed code or its sub-codes.
        query = query.where(sa.cast(Sites.c.minerals, sa.Text).like(f'%"{mineral}%'))
    if operator_actor_id is not None:
        query = query.where(Sites.c.operator_actor_id == operator_actor_id)
    rows, total = await fetch_page(db, query.order_by(Sites.c.name, Sites.c.id), page)
    return [_site(r) for r in rows], total


async def list_due_sites(db: AsyncSession, *, today: date, limit: int) -> list[MineSite]:
    """Sites of every organisation with a lapse due by `today`, locked; rows a writer holds are left for next run."""
    due = sa.or_(Sites.c.turns_blue_date <= today, Sites.c.turns_red_date <= today)
    query = (
        sa.select(Sites).where(due).order_by(Sites.c.id).limit(limit).with_for_update(skip_locked=True, key_share=True)
    )
    return [_site(r) for r in (await db.execute(query)).all()]


def _inspection(row: sa.Row[Any]) -> Inspection:
    return from_row(Inspection, row, result=SiteStatus(row.result))


async def list_org_sites_for_update(db: AsyncSession, *, org_id: str) -> list[MineSite]:
    """Every site of the organisation, locked in id order (the order the lapse job takes them): a change of the
    risk table re-evaluates them."""
    query = sa.select(Sites).where(Sites.c.org_id == org_id).order_by(Sites.c.id).with_for_update(key_share=True)
    return [_site(r) for r in (await db.execute(query)).all()]


async def get_inspection(db: AsyncSession, inspection_id: UUID, *, org_id: str) -> Inspection:
    query = sa.select(Inspections).where(Inspections.c.id == inspection_id, Inspections.c.org_id == org_id)
    row = (await db.execute(query)).one_or_none()
    if row is None:
        raise NotFound(f"inspection {inspection_id} not found", code="inspection_not_found")
    return _inspection(row)


async def save_inspection(db: AsyncSession, inspection: Inspection) -> None:
    """Written before the site that refers to it in its status decisions."""
    await db.execute(sa.insert(Inspections).values(**column_values(inspection, Inspections)))


async def list_inspections(db: AsyncSession, site_id: UUID, *, org_id: str) -> list[Inspection]:
    query = (
        sa.select(Inspections)
        .where(Inspections.c.site_id == site_id, Inspections.c.org_id == org_id)
        .order_by(Inspections.c.inspection_date.desc(), Inspections.c.recorded_at.desc())
    )
    return [_inspection(r) for r in (await db.execute(query)).all()]


async def list_status_changes(db: AsyncSession, site_id: UUID, *, org_id: str) -> list[StatusChange]:
    query = (
        sa.select(StatusChanges)
        .where(StatusChanges.c.site_id == site_id, StatusChanges.c.org_id == org_id)
        .order_by(StatusChanges.c.id)
    )
    return [
        StatusChange(
            previous=SiteStatus(r.previous_status) if r.previous_status else None,
            status=SiteStatus(r.status),
            on=r.effective_date,
            reason=StatusReason(r.reason),
            inspection_id=r.inspection_id,
            area_risk=r.area_risk,
            risk_table_version=r.risk_table_version,
            changed_by=r.changed_by,
            recorded_at=r.recorded_at,
        )
        for r in (await db.execute(query)).all()
    ]

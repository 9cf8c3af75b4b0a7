"""Queries of mine sites, inspections and status decisions; every read is scoped to the caller's organisation."""
from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.errors import NotFound
from services.kyc.domain.sites import MineSite, SiteStatus, lapse_dates
from services.kyc.tables.register import ActorRow, AuditEntryRow
from services.kyc.tables.sites import (
    MineSiteRow,
    SiteInspectionRow,
    SiteStatusChangeRow,
)

SITE_FIELDS = ("id", "org_id", "name", "operator_actor_id", "location", "country", "region", "minerals",
               "capacity_kg_per_month", "last_inspection_date", "area_risk", "risk_table_version", "created_by",
               "created_at", "updated_at", "version")


def to_domain(row: MineSiteRow) -> MineSite:
    return MineSite(**{f: getattr(row, f) for f in SITE_FIELDS}, status=SiteStatus(row.status),
                    status_since=row.status_since_date, registered_on=row.registered_date)


def _copy(site: MineSite, row: MineSiteRow) -> None:
    for name in SITE_FIELDS:
        setattr(row, name, getattr(site, name))
    row.status, row.status_since_date, row.registered_date = site.status.value, site.status_since, site.registered_on
    row.turns_blue_date, row.turns_red_date = lapse_dates(site)


async def add_site(db: AsyncSession, site: MineSite) -> None:
    row = MineSiteRow()
    _copy(site, row)
    db.add(row)
    await db.flush()  # status decisions and inspections reference the site


async def save_site(db: AsyncSession, site: MineSite, *, now: datetime) -> None:
    row = await db.get(MineSiteRow, site.id)
    if row is None or row.org_id != site.org_id:
        raise NotFound(f"mine site {site.id} does not exist")
    site.updated_at, site.version = now, site.version + 1
    _copy(site, row)


async def next_event_seq(db: AsyncSession, site_id: UUID) -> int:
    """The number of the site's next event, taken under the row lock this UPDATE holds until the transaction ends."""
    query = (sa.update(MineSiteRow).where(MineSiteRow.id == site_id).values(event_seq=MineSiteRow.event_seq + 1)
             .returning(MineSiteRow.event_seq).execution_options(synchronize_session="fetch"))
    return (await db.execute(query)).scalar_one()


async def get_site(db: AsyncSession, site_id: UUID, *, org_id: str, lock: bool = False) -> MineSite:
    """The site, locked until the transaction ends when `lock` (a writer and the lapse job never interleave)."""
    query = sa.select(MineSiteRow).where(MineSiteRow.id == site_id, MineSiteRow.org_id == org_id)
    row = (await db.execute(query.with_for_update() if lock else query)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"mine site {site_id} does not exist", code="site_not_found")
    return to_domain(row)


def _effective_status_is(status: SiteStatus, today: date) -> sa.ColumnElement[bool]:
    """SQL twin of domain.effective_status: the recorded status moved along the lapses due by `today`."""
    recorded, blue, red = MineSiteRow.status, MineSiteRow.turns_blue_date, MineSiteRow.turns_red_date
    not_red_yet = sa.or_(red.is_(None), red > today)
    if status is SiteStatus.RED:
        return sa.or_(recorded == status.value, red <= today)
    if status is SiteStatus.BLUE:
        lapsed_green = sa.and_(recorded == SiteStatus.GREEN.value, blue <= today)
        return sa.and_(sa.or_(recorded == status.value, lapsed_green), not_red_yet)
    if status is SiteStatus.GREEN:
        return sa.and_(recorded == status.value, blue > today)
    return recorded == status.value


async def list_sites(db: AsyncSession, *, org_id: str, today: date, status: SiteStatus | None = None,
                     country: str | None = None, mineral: str | None = None, operator_actor_id: UUID | None = None,
                     limit: int = 100, offset: int = 0) -> tuple[list[MineSite], int]:
    conditions = [MineSiteRow.org_id == org_id]
    if status is not None:
        conditions.append(_effective_status_is(status, today))
    if country:
        conditions.append(MineSiteRow.country == country)
    if mineral:
        # HS codes are checked digit strings, so '"<code>' in the JSON text matches a listed code or its sub-codes.
        conditions.append(sa.cast(MineSiteRow.minerals, sa.Text).like(f'%"{mineral}%'))
    if operator_actor_id is not None:
        conditions.append(MineSiteRow.operator_actor_id == operator_actor_id)
    total = (await db.execute(sa.select(sa.func.count()).select_from(MineSiteRow).where(*conditions))).scalar_one()
    query = (sa.select(MineSiteRow).where(*conditions).order_by(MineSiteRow.name, MineSiteRow.id)
             .limit(limit).offset(offset))
    return [to_domain(r) for r in (await db.execute(query)).scalars()], total


async def list_due_sites(db: AsyncSession, *, today: date, limit: int) -> list[MineSite]:
    """Sites of every organisation with a lapse due by `today`, locked; rows a writer holds are left for next run."""
    due = sa.or_(MineSiteRow.turns_blue_date <= today, MineSiteRow.turns_red_date <= today)
    query = (sa.select(MineSiteRow).where(due).order_by(MineSiteRow.id).limit(limit)
             .with_for_update(skip_locked=True))
    return [to_domain(r) for r in (await db.execute(query)).scalars()]


async def actor_in_org(db: AsyncSession, actor_id: UUID, *, org_id: str) -> bool:
    query = sa.select(ActorRow.id).where(ActorRow.id == actor_id, ActorRow.org_id == org_id)
    return (await db.execute(query)).first() is not None


async def add_inspection(db: AsyncSession, row: SiteInspectionRow) -> None:
    db.add(row)
    await db.flush()  # a status decision may reference it


async def list_inspections(db: AsyncSession, site_id: UUID, *, org_id: str) -> list[SiteInspectionRow]:
    query = (sa.select(SiteInspectionRow)
             .where(SiteInspectionRow.site_id == site_id, SiteInspectionRow.org_id == org_id)
             .order_by(SiteInspectionRow.inspection_date.desc(), SiteInspectionRow.recorded_at.desc()))
    return list((await db.execute(query)).scalars())


def add_status_change(db: AsyncSession, row: SiteStatusChangeRow) -> None:
    db.add(row)


async def list_status_changes(db: AsyncSession, site_id: UUID, *, org_id: str) -> list[SiteStatusChangeRow]:
    query = (sa.select(SiteStatusChangeRow)
             .where(SiteStatusChangeRow.site_id == site_id, SiteStatusChangeRow.org_id == org_id)
             .order_by(SiteStatusChangeRow.id))
    return list((await db.execute(query)).scalars())


async def list_site_audit(db: AsyncSession, site_id: UUID, *, org_id: str, entity_type: str, limit: int,
                          offset: int) -> tuple[list[AuditEntryRow], int]:
    conditions = [AuditEntryRow.org_id == org_id, AuditEntryRow.entity_type == entity_type,
                  AuditEntryRow.entity_id == str(site_id)]
    total = (await db.execute(sa.select(sa.func.count()).select_from(AuditEntryRow).where(*conditions))).scalar_one()
    query = (sa.select(AuditEntryRow).where(*conditions).order_by(AuditEntryRow.at, AuditEntryRow.id)
             .limit(limit).offset(offset))
    return list((await db.execute(query)).scalars()), total

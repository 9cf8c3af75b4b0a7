"""Queries of the country/region risk table; `area_risk` is what approvals and site decisions call."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.errors import NotFound
from services.kyc.domain.risk import AreaLevel, RiskArea, RiskTable, risk_of
from services.kyc.tables.sites import RiskAreaRow, RiskTableRow


async def area_risk(db: AsyncSession, *, org_id: str, country: str, region: str | None) -> tuple[str, int | None]:
    """("high", version) if the country or the region is listed in the version in force, else ("standard", version);
    version is None while the organisation has no table."""
    version = await current_version(db, org_id=org_id)
    if version is None:
        return risk_of(set(), country=country, region=region), None
    candidates = [a for a in (country, region) if a]
    listed = (await db.execute(sa.select(RiskAreaRow.area).where(
        RiskAreaRow.org_id == org_id, RiskAreaRow.version == version, RiskAreaRow.area.in_(candidates)))).scalars()
    return risk_of(set(listed), country=country, region=region), version


async def current_version(db: AsyncSession, *, org_id: str) -> int | None:
    query = sa.select(sa.func.max(RiskTableRow.version)).where(RiskTableRow.org_id == org_id)
    return (await db.execute(query)).scalar_one_or_none()


async def get_table(db: AsyncSession, *, org_id: str, version: int) -> RiskTable:
    row = await db.get(RiskTableRow, (org_id, version))
    if row is None:
        raise NotFound(f"risk table version {version} does not exist", code="unknown_risk_table_version")
    areas = (await db.execute(sa.select(RiskAreaRow).where(RiskAreaRow.org_id == org_id, RiskAreaRow.version == version)
                              .order_by(RiskAreaRow.area))).scalars().all()
    return RiskTable(version=row.version, created_at=row.created_at, created_by=row.created_by,
                     areas=[RiskArea(a.area, AreaLevel(a.level), a.reason, a.source) for a in areas])


async def find_current_table(db: AsyncSession, *, org_id: str) -> RiskTable:
    """The version in force, or an empty table with version None."""
    version = await current_version(db, org_id=org_id)
    return RiskTable(version=None) if version is None else await get_table(db, org_id=org_id, version=version)


async def list_versions(db: AsyncSession, *, org_id: str) -> list[RiskTableRow]:
    query = sa.select(RiskTableRow).where(RiskTableRow.org_id == org_id).order_by(RiskTableRow.version.desc())
    return list((await db.execute(query)).scalars())


async def lock_tables(db: AsyncSession, *, org_id: str) -> None:
    """Serialise replacements of one organisation's table until the transaction ends (PostgreSQL)."""
    if db.bind.dialect.name == "postgresql":
        await db.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended("risk_table:" + org_id, 0))))


async def add_table(db: AsyncSession, *, org_id: str, version: int, areas: list[RiskArea], created_by: str,
                    created_at: datetime) -> RiskTable:
    db.add(RiskTableRow(org_id=org_id, version=version, area_count=len(areas), created_by=created_by,
                        created_at=created_at))
    await db.flush()  # the areas reference the version row
    db.add_all(RiskAreaRow(org_id=org_id, version=version, area=a.area, level=a.level.value, reason=a.reason,
                           source=a.source) for a in areas)
    return RiskTable(version=version, areas=areas, created_at=created_at, created_by=created_by)

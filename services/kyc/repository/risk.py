"""The country/region risk table as stored; `area_risk` is what approvals and site decisions read."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import dialect_of
from libs.common.errors import NotFound
from services.kyc.domain.risk import (
    AreaLevel,
    AreaRisk,
    RiskArea,
    RiskTable,
    RiskTableVersion,
    risk_of,
)
from services.kyc.repository.rows import from_row
from services.kyc.tables.sites import RiskAreaRow, RiskTableRow

Tables = RiskTableRow.__table__
Areas = RiskAreaRow.__table__


async def area_risk(db: AsyncSession, *, org_id: str, country: str, region: str | None) -> AreaRisk:
    """("high", version) if the country or the region is listed in the version in force, else ("standard", version);
    version is None while the organisation has no table."""
    version = await current_version(db, org_id=org_id)
    if version is None:
        return AreaRisk(risk_of(set(), country=country, region=region), None)
    candidates = [a for a in (country, region) if a]
    listed = (
        await db.execute(
            sa.select(Areas.c.area).where(
                Areas.c.org_id == org_id, Areas.c.version == version, Areas.c.area.in_(candidates)
            )
        )
    ).scalars()
    return AreaRisk(risk_of(set(listed), country=country, region=region), version)


async def current_version(db: AsyncSession, *, org_id: str) -> int | None:
    query = sa.select(sa.func.max(Tables.c.version)).where(Tables.c.org_id == org_id)
    return (await db.execute(query)).scalar_one_or_none()


async def get_table(db: AsyncSession, *, org_id: str, version: int) -> RiskTable:
    query = sa.select(Tables).where(Tables.c.org_id == org_id, Tables.c.version == version)
    row = (await db.execute(query)).one_or_none()
    if row is None:
        raise NotFound(f"risk table version {version} does not exist", code="unknown_risk_table_version")
    areas = (
        await db.execute(
            sa.select(Areas).where(Areas.c.org_id == org_id, Areas.c.version == version).order_by(Areas.c.area)
        )
    ).all()
    return RiskTable(
        version=row.version,
        created_at=row.created_at,
        created_by=row.created_by,
        areas=[RiskArea(a.area, AreaLevel(a.level), a.reason, a.source) for a in areas],
    )


async def find_current_table(db: AsyncSession, *, org_id: str) -> RiskTable:
    """The version in force, or an empty table with version None."""
    version = await current_version(db, org_id=org_id)
    return RiskTable(version=None) if version is None else await get_table(db, org_id=org_id, version=version)


async def list_versions(db: AsyncSession, *, org_id: str) -> list[RiskTableVersion]:
    query = sa.select(Tables).where(Tables.c.org_id == org_id).order_by(Tables.c.version.desc())
    return [from_row(RiskTableVersion, r) for r in (await db.execute(query)).all()]


async def lock_tables(db: AsyncSession, *, org_id: str) -> None:
    """Serialise replacements of one organisation's table until the transaction ends (PostgreSQL)."""
    if dialect_of(db) == "postgresql":
        await db.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended("risk_table:" + org_id, 0))))


async def save_table(db: AsyncSession, table: RiskTable, *, org_id: str) -> None:
    """A new version: its row first, since the areas reference it."""
    await db.execute(
        sa.insert(Tables).values(
            org_id=org_id,
            version=table.version,
            area_count=len(table.areas),
            created_by=table.created_by,
            created_at=table.created_at,
        )
    )
    if table.areas:
        await db.execute(
            sa.insert(Areas),
            [
                {
                    "org_id": org_id,
                    "version": table.version,
                    "area": a.area,
                    "level": a.level.value,
                    "reason": a.reason,
                    "source": a.source,
                }
                for a in table.areas
            ],
        )

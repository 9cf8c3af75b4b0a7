"""The country/region risk table as stored; `area_risk` is what approvals and site decisions read.

The shipped default table is stored under the reserved organisation DEFAULT_ORG. An organisation that never set a
table of its own follows it: its versions 1..n are the default's, its table in force is the default's latest. Once
it replaces the table, its own versions continue from the one in force (so a version number names one table for
that organisation) and the default no longer applies to it."""

from __future__ import annotations

from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import dialect_of
from libs.common.errors import NotFound
from services.kyc.domain.risk import (
    DEFAULT,
    DEFAULT_ORG,
    ORGANISATION,
    AreaLevel,
    AreaRisk,
    RiskArea,
    RiskTable,
    RiskTableVersion,
    risk_of,
)
from services.kyc.repository.rows import from_row
from services.kyc.tables.register import ActorRow
from services.kyc.tables.sites import MineSiteRow, RiskAreaRow, RiskTableRow

Tables = RiskTableRow.__table__
Areas = RiskAreaRow.__table__


class InForce(NamedTuple):
    """Whose rows hold an organisation's table in force (its own or the default's), and which version."""

    owner: str
    version: int


async def area_risk(db: AsyncSession, *, org_id: str, country: str, region: str | None) -> AreaRisk:
    """("high", version) if the country or the region is listed in the version in force, else ("standard", version);
    version is None while the organisation has no table (and no default was loaded)."""
    force = await in_force(db, org_id=org_id)
    if force is None:
        return AreaRisk(risk_of(set(), country=country, region=region), None)
    candidates = [a for a in (country, region) if a]
    listed = (
        await db.execute(
            sa.select(Areas.c.area).where(
                Areas.c.org_id == force.owner, Areas.c.version == force.version, Areas.c.area.in_(candidates)
            )
        )
    ).scalars()
    return AreaRisk(risk_of(set(listed), country=country, region=region), force.version)


async def listed_areas(db: AsyncSession, *, org_id: str) -> tuple[int | None, set[str]]:
    """The version in force and every area it lists (what a re-evaluation of all sites and actors reads once)."""
    force = await in_force(db, org_id=org_id)
    if force is None:
        return None, set()
    query = sa.select(Areas.c.area).where(Areas.c.org_id == force.owner, Areas.c.version == force.version)
    return force.version, set((await db.execute(query)).scalars())


async def _max_version(db: AsyncSession, owner: str) -> int | None:
    query = sa.select(sa.func.max(Tables.c.version)).where(Tables.c.org_id == owner)
    return (await db.execute(query)).scalar_one_or_none()


async def _first_own_version(db: AsyncSession, org_id: str) -> int | None:
    query = sa.select(sa.func.min(Tables.c.version)).where(Tables.c.org_id == org_id)
    return (await db.execute(query)).scalar_one_or_none()


async def in_force(db: AsyncSession, *, org_id: str) -> InForce | None:
    own = await _max_version(db, org_id)
    if own is not None:
        return InForce(org_id, own)
    default = await _max_version(db, DEFAULT_ORG)
    return None if default is None else InForce(DEFAULT_ORG, default)


async def current_version(db: AsyncSession, *, org_id: str) -> int | None:
    force = await in_force(db, org_id=org_id)
    return None if force is None else force.version


async def latest_default_version(db: AsyncSession) -> int | None:
    return await _max_version(db, DEFAULT_ORG)


async def get_table(db: AsyncSession, *, org_id: str, version: int) -> RiskTable:
    """The organisation's version: its own, or the default's below its first own version."""
    owner = await _owner_of(db, org_id=org_id, version=version)
    query = sa.select(Tables).where(Tables.c.org_id == owner, Tables.c.version == version)
    row = (await db.execute(query)).one_or_none()
    if row is None:
        raise NotFound(f"risk table version {version} does not exist", code="unknown_risk_table_version")
    areas = (
        await db.execute(
            sa.select(Areas).where(Areas.c.org_id == owner, Areas.c.version == version).order_by(Areas.c.area)
        )
    ).all()
    return RiskTable(
        version=row.version,
        created_at=row.created_at,
        created_by=row.created_by,
        areas=[RiskArea(a.area, AreaLevel(a.level), a.reason, a.source) for a in areas],
        origin=DEFAULT if owner == DEFAULT_ORG else ORGANISATION,
    )


async def _owner_of(db: AsyncSession, *, org_id: str, version: int) -> str:
    first_own = await _first_own_version(db, org_id)
    return org_id if first_own is not None and version >= first_own else DEFAULT_ORG


async def find_current_table(db: AsyncSession, *, org_id: str) -> RiskTable:
    """The version in force, or an empty table with version None."""
    version = await current_version(db, org_id=org_id)
    return RiskTable(version=None) if version is None else await get_table(db, org_id=org_id, version=version)


async def list_versions(db: AsyncSession, *, org_id: str) -> list[RiskTableVersion]:
    """The organisation's own versions, then the default's it followed before (or follows), newest first."""
    first_own = await _first_own_version(db, org_id)
    defaults = Tables.c.org_id == DEFAULT_ORG
    if first_own is not None:
        defaults = sa.and_(defaults, Tables.c.version < first_own)
    query = sa.select(Tables).where(sa.or_(Tables.c.org_id == org_id, defaults)).order_by(Tables.c.version.desc())
    return [
        from_row(RiskTableVersion, r, origin=DEFAULT if r.org_id == DEFAULT_ORG else ORGANISATION)
        for r in (await db.execute(query)).all()
    ]


async def list_orgs_following_default(db: AsyncSession) -> list[str]:
    """Organisations with sites or actors and no table of their own: a new default version is theirs."""
    own = sa.select(Tables.c.org_id).where(Tables.c.org_id != DEFAULT_ORG)
    sites = sa.select(MineSiteRow.__table__.c.org_id.label("org_id"))
    actors = sa.select(ActorRow.__table__.c.org_id.label("org_id"))
    orgs = sa.union(sites, actors).subquery()
    query = sa.select(orgs.c.org_id).where(orgs.c.org_id.not_in(own)).order_by(orgs.c.org_id)
    return list((await db.execute(query)).scalars())


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

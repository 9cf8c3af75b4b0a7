"""The organisation's country/region risk table: read any version, replace it whole (one new version per change)."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import outbox
from libs.common.db import utcnow
from libs.common.events.kyc import RiskTableChanged
from services.kyc.domain import risk as domain
from services.kyc.domain.risk import RiskArea, RiskTable
from services.kyc.repository import risk as repository
from services.kyc.tables.sites import RiskTableRow
from services.kyc.use_cases import history


async def risk_table_in_force(db: AsyncSession, *, org_id: str) -> RiskTable:
    return await repository.find_current_table(db, org_id=org_id)


async def risk_table_version(db: AsyncSession, version: int, *, org_id: str) -> RiskTable:
    return await repository.get_table(db, org_id=org_id, version=version)


async def list_versions(db: AsyncSession, *, org_id: str) -> list[RiskTableRow]:
    return await repository.list_versions(db, org_id=org_id)


async def replace_risk_table(db: AsyncSession, *, org_id: str, user_id: str,
                             areas: list[RiskArea]) -> tuple[RiskTable, bool]:
    """Version n+1 holding exactly `areas`, or the version in force unchanged (False) if it already holds them."""
    proposed = domain.risk_table(areas)
    await repository.lock_tables(db, org_id=org_id)
    current = await repository.find_current_table(db, org_id=org_id)
    if domain.is_unchanged(current.areas, proposed):
        return current, False
    table = await repository.add_table(db, org_id=org_id, version=(current.version or 0) + 1, areas=proposed,
                                       created_by=user_id, created_at=utcnow())
    # Keyed by the organisation, whose table versions only grow (taken under lock_tables).
    outbox.add(db, RiskTableChanged(org_id=org_id, aggregate_version=table.version, table_version=table.version,
                                    areas=[a.area for a in proposed]), key=org_id)
    history.record(db, org_id=org_id, user_id=user_id, entity_type="risk_table", entity_id=str(table.version),
                   action="replaced", changes=domain.diff(current.areas, proposed))
    return table, True

"""The organisation's country/region risk table: read any version, replace it whole (one new version per change)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import outbox
from libs.common.auth import Principal
from libs.common.db import utcnow
from services.kyc.domain import risk as rules
from services.kyc.domain.risk import RiskArea, RiskTable, RiskTableVersion
from services.kyc.repository import risk as repository
from services.kyc.use_cases import history


async def get_risk_table(db: AsyncSession, principal: Principal) -> RiskTable:
    """The version in force (version None: the organisation has never set one)."""
    return await repository.find_current_table(db, org_id=principal.org_id)


async def get_risk_table_version(db: AsyncSession, principal: Principal, version: int) -> RiskTable:
    return await repository.get_table(db, org_id=principal.org_id, version=version)


async def list_risk_table_versions(db: AsyncSession, principal: Principal) -> list[RiskTableVersion]:
    return await repository.list_versions(db, org_id=principal.org_id)


async def replace_risk_table(
    db: AsyncSession, principal: Principal, *, areas: list[RiskArea]
) -> tuple[RiskTable, bool]:
    """Version n+1 holding exactly `areas`, or the version in force unchanged (False) if it already holds them."""
    org_id = principal.org_id
    await repository.lock_tables(db, org_id=org_id)  # versions only grow: one replacement at a time
    current = await repository.find_current_table(db, org_id=org_id)
    replaced = current.replace(areas, org_id=org_id, by=principal.user_id, now=utcnow())
    if replaced is None:
        return current, False
    table, event = replaced
    await repository.save_table(db, table, org_id=org_id)
    outbox.add(db, event, key=org_id)  # numbered by the domain: the table's version is the event's
    history.record(
        db,
        org_id=org_id,
        user_id=principal.user_id,
        entity_type="risk_table",
        entity_id=str(table.version),
        action="replaced",
        changes=rules.diff(current.areas, table.areas),
    )
    return table, True

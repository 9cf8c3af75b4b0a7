"""The organisation's country/region risk table: read any version, replace it whole (one new version per change),
the shipped default loaded at first start; each change re-evaluates the sites and actors it affects."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import outbox
from libs.common.auth import Principal
from libs.common.db import utcnow
from libs.common.errors import Forbidden
from services.kyc.domain import risk as rules
from services.kyc.domain.history import SYSTEM, diff
from services.kyc.domain.risk import DEFAULT_ORG, AreaRisk, DefaultTable, RiskArea, RiskTable, RiskTableVersion
from services.kyc.domain.workflow import REVIEWED
from services.kyc.repository import actors as actor_repository
from services.kyc.repository import risk as repository
from services.kyc.repository import sites as site_repository
from services.kyc.use_cases import announce, history
from services.kyc.use_cases.workflow import assess_actor


async def get_risk_table(db: AsyncSession, principal: Principal) -> RiskTable:
    """The version in force: the organisation's own, else the shipped default (version None: neither exists)."""
    return await repository.find_current_table(db, org_id=principal.org_id)


async def get_risk_table_version(db: AsyncSession, principal: Principal, version: int) -> RiskTable:
    return await repository.get_table(db, org_id=principal.org_id, version=version)


async def list_risk_table_versions(db: AsyncSession, principal: Principal) -> list[RiskTableVersion]:
    return await repository.list_versions(db, org_id=principal.org_id)


async def replace_risk_table(
    db: AsyncSession, principal: Principal, *, areas: list[RiskArea]
) -> tuple[RiskTable, bool]:
    """Version n+1 holding exactly `areas`, or the version in force unchanged (False) if it already holds them; a
    new version re-evaluates the area risk of every site and assessed actor of the organisation."""
    org_id = principal.org_id
    if org_id == DEFAULT_ORG:
        raise Forbidden("this organisation id is reserved for the shipped default table", code="reserved_org")
    await repository.lock_tables(db, org_id=org_id)  # versions only grow: one replacement at a time
    current = await repository.find_current_table(db, org_id=org_id)
    now = utcnow()
    replaced = current.replace(areas, org_id=org_id, by=principal.user_id, now=now)
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
    await reassess_area_risk(db, org_id, by=principal.user_id, now=now)
    return table, True


async def load_default_table(db: AsyncSession, now: datetime, *, table: DefaultTable) -> int:
    """Scheduled (first start, then each run): store the shipped default table if its version is newer than the
    stored one (so a repeated run does nothing), then re-evaluate every organisation that follows the default.
    Returns how many sites and actors changed."""
    await repository.lock_tables(db, org_id=DEFAULT_ORG)
    stored = await repository.latest_default_version(db)
    if stored is not None and stored >= table.version:
        return 0
    await repository.save_table(db, table.as_table(now=now), org_id=DEFAULT_ORG)
    changed = 0
    for org_id in await repository.list_orgs_following_default(db):
        changed += await reassess_area_risk(db, org_id, by=SYSTEM, now=now)
    return changed


async def reassess_area_risk(db: AsyncSession, org_id: str, *, by: str, now: datetime) -> int:
    """Every site of the organisation whose area level differs under the table in force takes the new one, and
    every approved or suspended actor whose area level differs is re-assessed; each change is saved, announced
    and recorded like any other. Returns how many sites and actors changed."""
    version, listed = await repository.listed_areas(db, org_id=org_id)
    changed = 0
    for site in await site_repository.list_org_sites_for_update(db, org_id=org_id):
        before = (site.area_risk, site.risk_table_version)
        area = AreaRisk(rules.risk_of(listed, country=site.country, region=site.region), version)
        if (event := site.reassess_area(area, now=now)) is None:
            continue
        await announce.save_site(db, site, event)
        changes = diff(
            dict(zip(("area_risk", "risk_table_version"), before, strict=True)),
            {"area_risk": site.area_risk, "risk_table_version": site.risk_table_version},
        )
        _record(
            db, org_id, by, entity_type="mine_site", entity_id=site.id, actor_id=site.operator_actor_id, changes=changes
        )
        changed += 1
    for actor in await actor_repository.list_assessed_for_update(db, org_id=org_id, statuses=REVIEWED):
        in_high_area = rules.risk_of(listed, country=actor.country, region=actor.region) == rules.HIGH
        if in_high_area == ("high_risk_area" in actor.risk_factors):
            continue  # the area's level did not change for this actor
        before = actor.audited()
        events = actor.reassess_risk(await assess_actor(db, actor), by=by, now=now)
        if not events:
            continue
        await announce.save_actor(db, actor, *events)
        changes = diff(before, actor.audited())
        _record(db, org_id, by, entity_type="actor", entity_id=actor.id, actor_id=actor.id, changes=changes)
        changed += 1
    return changed


def _record(
    db: AsyncSession,
    org_id: str,
    by: str,
    *,
    entity_type: str,
    entity_id: UUID,
    actor_id: UUID | None,
    changes: dict[str, Any],
) -> None:
    """The history entry of a re-evaluation: the area risk (or risk level) before and after, and the version."""
    history.record(
        db,
        org_id=org_id,
        user_id=by,
        entity_type=entity_type,
        entity_id=entity_id,
        action="area_risk_reassessed",
        changes=changes,
        actor_id=actor_id,
    )

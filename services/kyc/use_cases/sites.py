"""Mine sites: registration, edits, inspections, and the status decisions they and time (lapses) make."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.db import utcnow
from libs.common.errors import Invalid, referenced
from libs.common.events.kyc import KycEvent, MineSiteStatusChanged
from libs.common.pagination import Pagination
from services.kyc.domain import geography, sites
from services.kyc.domain.actors import hs_codes
from services.kyc.domain.history import SYSTEM, AuditEntry, diff
from services.kyc.domain.risk import AreaRisk
from services.kyc.domain.sites import Inspection, MineSite, SiteStatus, StatusChange
from services.kyc.repository import actors as actor_repository
from services.kyc.repository import documents as document_repository
from services.kyc.repository import history as history_repository
from services.kyc.repository import risk as risk_repository
from services.kyc.repository import sites as repository
from services.kyc.use_cases import announce, history

ENTITY = "mine_site"


async def site_for_change(
    db: AsyncSession, principal: Principal, site_id: UUID, *, version: int | None = None
) -> MineSite:
    """The caller's site, locked to the end of the transaction and checked against the version the client read."""
    site = await repository.get_site(db, site_id, org_id=principal.org_id, for_update=True)
    site.check_version(version)
    return site


async def register_site(
    db: AsyncSession, principal: Principal, *, values: dict[str, Any], border_tolerance_km: float
) -> MineSite:
    """A new site starts blue (not inspected) today, with the area risk of the table in force; its location must
    lie in its country (within `border_tolerance_km`)."""
    checked = sites.checked_fields({name: values.get(name) for name in sites.EDITABLE})
    await _check_operator(db, checked.get("operator_actor_id"), org_id=principal.org_id)
    site, event = MineSite.register(
        checked,
        org_id=principal.org_id,
        by=principal.user_id,
        now=utcnow(),
        area=await _area_of(db, principal.org_id, checked["country"], checked["region"]),
        border_tolerance_km=border_tolerance_km,
    )
    await announce.save_site(db, site, event)
    _audit(db, principal.user_id, site, action="registered", changes={f: getattr(site, f) for f in sites.EDITABLE})
    return site


async def edit_site(
    db: AsyncSession,
    principal: Principal,
    site_id: UUID,
    *,
    changes: dict[str, Any],
    border_tolerance_km: float,
    version: int | None = None,
) -> MineSite:
    """Change descriptive fields (never the status); an edit that changes nothing writes nothing."""
    site = await site_for_change(db, principal, site_id, version=version)
    checked = site.checked_changes(changes)
    await _check_operator(db, checked.get("operator_actor_id"), org_id=site.org_id)
    before = site.editable()
    area = await _area_of(db, site.org_id, checked.get("country", site.country), checked.get("region", site.region))
    event = site.edit(checked, area=area, now=utcnow(), border_tolerance_km=border_tolerance_km)
    if event is not None:
        await announce.save_site(db, site, event)
        _audit(db, principal.user_id, site, action="updated", changes=diff(before, site.editable()))
    return site


async def record_inspection(
    db: AsyncSession,
    principal: Principal,
    site_id: UUID,
    *,
    inspection_date: date,
    inspector: str,
    agency: str,
    result: str,
    notes: str | None = None,
    report_document_id: UUID | None = None,
) -> Inspection:
    """Keep the inspection; if it is the latest by date, the site's status follows its result."""
    now = utcnow()
    inspection = Inspection.new(
        site_id=site_id,
        org_id=principal.org_id,
        inspection_date=inspection_date,
        result=result,
        inspector=inspector,
        agency=agency,
        notes=notes,
        report_document_id=report_document_id,
        by=principal.user_id,
        now=now,
    )
    site = await site_for_change(db, principal, site_id)
    if report_document_id is not None:
        await _check_report(db, report_document_id, org_id=site.org_id, site_id=site.id)
    await repository.save_inspection(db, inspection)  # before the site, whose status decisions refer to it
    events = site.record_inspection(
        inspection, area=await _area_of(db, site.org_id, site.country, site.region), by=principal.user_id, now=now
    )
    await _decided(db, principal.user_id, site, events)
    return inspection


async def apply_due_lapses(db: AsyncSession, now: datetime, *, batch: int = 500) -> int:
    """Scheduled: move every site whose lapse is due by `now`'s date; returns how many status changes. A site is
    moved and its lapse dates advanced in this transaction, so a repeated run finds nothing to do."""
    changes = 0
    for site in await repository.list_due_sites(db, today=now.date(), limit=batch):
        events = site.lapse(area=await _area_of(db, site.org_id, site.country, site.region), by=SYSTEM, now=now)
        await _decided(db, SYSTEM, site, events)
        changes += len(events)
    return changes


async def get_site(db: AsyncSession, principal: Principal, site_id: UUID) -> MineSite:
    return await repository.get_site(db, site_id, org_id=principal.org_id)


async def list_sites(
    db: AsyncSession,
    principal: Principal,
    *,
    page: Pagination,
    status: str | None = None,
    country: str | None = None,
    mineral: str | None = None,
    operator_actor_id: UUID | None = None,
) -> tuple[list[MineSite], int]:
    """Sites filtered by their status in force today (lapses included), country, HS code (or prefix), operator."""
    return await repository.list_sites(
        db,
        org_id=principal.org_id,
        today=utcnow().date(),
        status=SiteStatus(status) if status else None,
        country=geography.country(country) if country else None,
        mineral=hs_codes([mineral])[0] if mineral else None,
        operator_actor_id=operator_actor_id,
        page=page,
    )


async def list_inspections(db: AsyncSession, principal: Principal, site_id: UUID) -> list[Inspection]:
    site = await repository.get_site(db, site_id, org_id=principal.org_id)
    return await repository.list_inspections(db, site.id, org_id=site.org_id)


async def list_status_changes(db: AsyncSession, principal: Principal, site_id: UUID) -> list[StatusChange]:
    """Every status decision, in the order made."""
    site = await repository.get_site(db, site_id, org_id=principal.org_id)
    return await repository.list_status_changes(db, site.id, org_id=site.org_id)


async def list_site_history(
    db: AsyncSession, principal: Principal, site_id: UUID, *, page: Pagination
) -> tuple[list[AuditEntry], int]:
    site = await repository.get_site(db, site_id, org_id=principal.org_id)
    return await history_repository.list_entity_entries(
        db, org_id=site.org_id, entity_type=ENTITY, entity_id=site.id, page=page
    )


async def _decided(db: AsyncSession, user_id: str, site: MineSite, events: list[KycEvent]) -> None:
    """The site saved with its decisions and events, an audit entry for the inspection and each status change."""
    if not events:
        return
    await announce.save_site(db, site, *events)
    for event in events:
        if isinstance(event, MineSiteStatusChanged):
            _audit(
                db,
                user_id,
                site,
                action="status_changed",
                changes={
                    "status": {"before": event.previous_status, "after": event.status},
                    "reason": event.reason,
                    "effective_date": event.effective_at.date(),
                    "risk_table_version": event.risk_table_version,
                },
            )
        else:
            _audit(
                db,
                user_id,
                site,
                action="inspection_recorded",
                changes={
                    "inspection_id": event.inspection_id,
                    "inspection_date": event.inspection_date,
                    "result": event.result,
                    "agency": event.agency,
                },
            )


def _audit(db: AsyncSession, user_id: str, site: MineSite, *, action: str, changes: dict[str, Any]) -> None:
    """The site's audit entry, also filed in its operator's history when it has one."""
    history.record(
        db,
        org_id=site.org_id,
        user_id=user_id,
        entity_type=ENTITY,
        entity_id=site.id,
        action=action,
        changes=changes,
        actor_id=site.operator_actor_id,
    )


async def _area_of(db: AsyncSession, org_id: str, country: str, region: str | None) -> AreaRisk:
    return await risk_repository.area_risk(db, org_id=org_id, country=country, region=region)


async def _check_operator(db: AsyncSession, actor_id: UUID | None, *, org_id: str) -> None:
    """The operator is an actor of the organisation's own register (one shared with it is 403 read_only_share)."""
    if actor_id is not None:
        lookup = actor_repository.get_actor(db, actor_id, org_id=org_id)
        await referenced(lookup, field="operator_actor_id", code="unknown_actor", what="actor")


async def _check_report(db: AsyncSession, document_id: UUID, *, org_id: str, site_id: UUID) -> None:
    lookup = document_repository.get_document(db, document_id, org_id=org_id)
    document = await referenced(lookup, field="report_document_id", code="unknown_document", what="document")
    if document.site_id is not None and document.site_id != site_id:
        raise Invalid(f"document {document_id} belongs to another site", code="document_of_another_site")

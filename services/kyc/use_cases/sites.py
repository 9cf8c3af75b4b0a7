"""Mine sites: registration, edits, inspections, and the status decisions they and time (lapses) make."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import utcnow
from libs.common.errors import Conflict, Invalid, NotFound
from libs.common.events.kyc import (
    InspectionRecorded,
    MineSiteRegistered,
    MineSiteStatusChanged,
    MineSiteUpdated,
)
from services.kyc.domain import actors, geography, geojson
from services.kyc.domain import sites as domain
from services.kyc.domain.sites import (
    Inspection,
    MineSite,
    SiteStatus,
    StatusChange,
    StatusReason,
)
from services.kyc.repository import documents
from services.kyc.repository import risk as risk_repository
from services.kyc.repository import sites as repository
from services.kyc.tables.register import AuditEntryRow
from services.kyc.tables.sites import SiteInspectionRow, SiteStatusChangeRow
from services.kyc.use_cases import announce, history

ENTITY = "mine_site"
EDITABLE = ("name", "operator_actor_id", "location", "country", "region", "minerals", "capacity_kg_per_month")


async def register_site(db: AsyncSession, *, org_id: str, user_id: str, name: str, location: Any, country: str,
                        region: str | None, minerals: list[str], operator_actor_id: UUID | None = None,
                        capacity_kg_per_month: float | None = None) -> MineSite:
    """A new site starts blue (not inspected) today, with the area risk of the table in force."""
    values = await _checked(db, org_id=org_id, values={
        "name": name, "location": location, "country": country, "region": region, "minerals": minerals,
        "operator_actor_id": operator_actor_id, "capacity_kg_per_month": capacity_kg_per_month})
    now = utcnow()
    site = MineSite(id=uuid4(), org_id=org_id, registered_on=now.date(), created_by=user_id, created_at=now,
                    updated_at=now, version=1, **values)
    await _refresh_area_risk(db, site)
    await repository.add_site(db, site)
    await _record_decision(db, site, StatusChange(None, site.status, site.registered_on, StatusReason.REGISTERED),
                           user_id=user_id, now=now)
    await announce.site_event(db, site, MineSiteRegistered)
    _audit(db, site, user_id=user_id, action="registered", changes={f: getattr(site, f) for f in EDITABLE})
    return site


async def edit_site(db: AsyncSession, site_id: UUID, *, org_id: str, user_id: str, changes: dict[str, Any],
                    expected_version: int | None = None) -> MineSite:
    """Change descriptive fields (never the status); an edit that changes nothing writes nothing."""
    site = await repository.get_site(db, site_id, org_id=org_id, lock=True)
    if expected_version is not None and expected_version != site.version:
        raise Conflict(f"site {site_id} is at version {site.version}, not {expected_version}; read it again",
                       code="stale_version")
    values = {k: v for k, v in changes.items() if k in EDITABLE}
    if "country" in values or "region" in values:  # checked as a pair: the region must lie in the country
        values.setdefault("country", site.country)
        values.setdefault("region", site.region)
    checked = await _checked(db, org_id=org_id, values=values)
    changed = {f: (getattr(site, f), v) for f, v in checked.items() if getattr(site, f) != v}
    if not changed:
        return site
    for name, (_, new) in changed.items():
        setattr(site, name, new)
    if {"country", "region"} & changed.keys():
        await _refresh_area_risk(db, site)
    await repository.save_site(db, site, now=utcnow())
    await announce.site_event(db, site, MineSiteUpdated, changed_fields=sorted(changed))
    _audit(db, site, user_id=user_id, action="updated",
           changes={f: {"before": old, "after": new} for f, (old, new) in changed.items()})
    return site


async def record_inspection(db: AsyncSession, site_id: UUID, *, org_id: str, user_id: str, inspection_date: date,
                            inspector: str, agency: str, result: str, notes: str | None = None,
                            report_document_id: UUID | None = None) -> SiteInspectionRow:
    """Keep the inspection; if it is the latest by date, the site's status follows its result."""
    now = utcnow()
    domain.check_inspection_date(inspection_date, now.date())
    outcome = domain.inspection_result(result)
    site = await repository.get_site(db, site_id, org_id=org_id, lock=True)
    if report_document_id is not None:
        await _check_report(db, report_document_id, org_id=org_id, site_id=site.id)
    row = SiteInspectionRow(id=uuid4(), org_id=org_id, site_id=site.id, inspection_date=inspection_date,
                            inspector=inspector, agency=agency, result=outcome.value, notes=notes,
                            report_document_id=report_document_id, recorded_by=user_id, recorded_at=now)
    await repository.add_inspection(db, row)
    await announce.site_event(db, site, InspectionRecorded, inspection_id=row.id, inspection_date=inspection_date,
                              result=outcome.value, agency=agency, inspector=inspector,
                              report_document_id=report_document_id)
    _audit(db, site, user_id=user_id, action="inspection_recorded", changes={
        "inspection_id": row.id, "inspection_date": inspection_date, "result": outcome.value, "agency": agency})
    decisions = domain.record_inspection(site, Inspection(row.id, inspection_date, outcome), now.date())
    await _decide(db, site, decisions, user_id=user_id, now=now)
    return row


async def apply_due_lapses(db: AsyncSession, now: datetime, *, batch: int = 500) -> int:
    """The scheduled job: move every site whose lapse is due by `now`'s date; returns how many status changes.
    A site is moved and its lapse dates advanced in this transaction, so a repeated run finds nothing to do."""
    changes = 0
    for site in await repository.list_due_sites(db, today=now.date(), limit=batch):
        decisions = domain.apply_due_lapses(site, now.date())
        await _decide(db, site, decisions, user_id=history.SYSTEM, now=now)
        changes += len(decisions)
    return changes


async def get_site(db: AsyncSession, site_id: UUID, *, org_id: str) -> MineSite:
    return await repository.get_site(db, site_id, org_id=org_id)


async def list_sites(db: AsyncSession, *, org_id: str, status: str | None = None, country: str | None = None,
                     mineral: str | None = None, operator_actor_id: UUID | None = None, limit: int = 100,
                     offset: int = 0) -> tuple[list[MineSite], int]:
    """Sites filtered by their status in force today (lapses included), country, HS code (or prefix), operator."""
    return await repository.list_sites(
        db, org_id=org_id, today=utcnow().date(), status=SiteStatus(status) if status else None,
        country=geography.country(country) if country else None,
        mineral=actors.hs_codes([mineral])[0] if mineral else None,
        operator_actor_id=operator_actor_id, limit=limit, offset=offset)


async def list_inspections(db: AsyncSession, site_id: UUID, *, org_id: str) -> list[SiteInspectionRow]:
    await repository.get_site(db, site_id, org_id=org_id)
    return await repository.list_inspections(db, site_id, org_id=org_id)


async def status_history(db: AsyncSession, site_id: UUID, *, org_id: str) -> list[SiteStatusChangeRow]:
    await repository.get_site(db, site_id, org_id=org_id)
    return await repository.list_status_changes(db, site_id, org_id=org_id)


async def site_history(db: AsyncSession, site_id: UUID, *, org_id: str, limit: int,
                       offset: int) -> tuple[list[AuditEntryRow], int]:
    await repository.get_site(db, site_id, org_id=org_id)
    return await repository.list_site_audit(db, site_id, org_id=org_id, entity_type=ENTITY, limit=limit,
                                            offset=offset)


async def _decide(db: AsyncSession, site: MineSite, decisions: list[StatusChange], *, user_id: str,
                  now: datetime) -> None:
    if not decisions:
        return
    await _refresh_area_risk(db, site)
    for decision in decisions:
        await _record_decision(db, site, decision, user_id=user_id, now=now)
    await repository.save_site(db, site, now=now)


async def _record_decision(db: AsyncSession, site: MineSite, decision: StatusChange, *, user_id: str,
                           now: datetime) -> None:
    """A status history row for every decision (a renewal too); an event and an audit entry when it changes."""
    repository.add_status_change(db, SiteStatusChangeRow(
        org_id=site.org_id, site_id=site.id, previous_status=decision.previous, status=decision.status.value,
        reason=decision.reason.value, effective_date=decision.on, inspection_id=decision.inspection_id,
        area_risk=site.area_risk, risk_table_version=site.risk_table_version, changed_by=user_id, recorded_at=now))
    if decision.previous is None or not decision.changed:
        return
    await announce.site_event(
        db, site, MineSiteStatusChanged, step=decision, previous_status=decision.previous.value,
        status=decision.status.value, reason=decision.reason.value, effective_at=domain.midnight_utc(decision.on),
        inspection_id=decision.inspection_id, risk_table_version=site.risk_table_version)
    _audit(db, site, user_id=user_id, action="status_changed", changes={
        "status": {"before": decision.previous, "after": decision.status}, "reason": decision.reason,
        "effective_date": decision.on, "risk_table_version": site.risk_table_version})


def _audit(db: AsyncSession, site: MineSite, *, user_id: str, action: str, changes: dict[str, Any]) -> None:
    """The site's audit entry, also filed in its operator's history when it has one."""
    history.record(db, org_id=site.org_id, user_id=user_id, entity_type=ENTITY, entity_id=site.id, action=action,
                   changes=changes, actor_id=site.operator_actor_id)


async def _checked(db: AsyncSession, *, org_id: str, values: dict[str, Any]) -> dict[str, Any]:
    """The given site fields, checked and normalised; country and region are checked together."""
    checked = dict(values)
    if "location" in values:
        checked["location"] = geojson.geometry(values["location"])
    if "country" in values:
        checked["country"] = geography.country(values["country"])
        checked["region"] = geography.region(checked["country"], values.get("region"))
    if "minerals" in values:
        checked["minerals"] = actors.hs_codes(values["minerals"])
    if "capacity_kg_per_month" in values:
        checked["capacity_kg_per_month"] = domain.check_capacity(values["capacity_kg_per_month"])
    if values.get("operator_actor_id") is not None:
        await _check_operator(db, values["operator_actor_id"], org_id=org_id)
    return checked


async def _check_operator(db: AsyncSession, actor_id: UUID, *, org_id: str) -> None:
    if not await repository.actor_in_org(db, actor_id, org_id=org_id):
        raise Invalid(f"operator actor {actor_id} is not in this organisation's register", code="unknown_actor")


async def _check_report(db: AsyncSession, document_id: UUID, *, org_id: str, site_id: UUID) -> None:
    try:
        document = await documents.get_document(db, document_id, org_id=org_id)
    except NotFound as exc:
        raise Invalid(f"report document {document_id} does not exist", code="unknown_document") from exc
    if document.site_id is not None and document.site_id != site_id:
        raise Invalid(f"document {document_id} belongs to another site", code="document_of_another_site")


async def _refresh_area_risk(db: AsyncSession, site: MineSite) -> None:
    site.area_risk, site.risk_table_version = await risk_repository.area_risk(
        db, org_id=site.org_id, country=site.country, region=site.region)

"""HTTP routes of mine sites: registration, edits, inspections, status history."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query

from libs.common.concurrency import VERSION_RESPONSES, IfMatch, expected_version
from libs.common.db import DbRead, DbTransaction, utcnow
from libs.common.pagination import PageQuery
from services.kyc.access import Creator, Editor, Reader, Reviewer
from services.kyc.api.context import Settings
from services.kyc.schemas.history import HistoryEntryRead, HistoryPage
from services.kyc.schemas.sites import (
    EditSite,
    InspectionRead,
    RecordInspection,
    RegisterSite,
    SitePage,
    SiteRead,
    StatusChangeRead,
)
from services.kyc.use_cases import sites as use_cases

router = APIRouter(prefix="/sites", tags=["mine sites"])
NOT_FOUND = {404: {"description": "no such site in the caller's organisation"}}
INVALID = {
    422: {
        "description": "invalid_geojson, unknown_country, unknown_region, region_country_mismatch, "
        "location_outside_country, invalid_hs_code, unknown_actor, ..."
    }
}


@router.post("", status_code=201, summary="Register a mine site (it starts blue: not inspected)", responses=INVALID)
async def register_site(body: RegisterSite, principal: Creator, db: DbTransaction, settings: Settings) -> SiteRead:
    site = await use_cases.register_site(
        db, principal, values=body.model_dump(), border_tolerance_km=settings.kyc_site_border_tolerance_km
    )
    return SiteRead.from_domain(site, today=utcnow().date())


@router.get("", summary="Mine sites of the caller's organisation, filtered and paginated")
async def list_sites(
    principal: Reader,
    db: DbRead,
    page: PageQuery,
    status: Literal["green", "yellow", "red", "blue"] | None = None,
    country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$")] = None,
    mineral: Annotated[
        str | None, Query(pattern=r"^[0-9][0-9. ]{3,15}$", description="HS code or its prefix, e.g. 7108")
    ] = None,
    operator_actor_id: UUID | None = None,
) -> SitePage:
    sites, total = await use_cases.list_sites(
        db, principal, page=page, status=status, country=country, mineral=mineral, operator_actor_id=operator_actor_id
    )
    today = utcnow().date()
    return SitePage(
        items=[SiteRead.from_domain(s, today=today) for s in sites], total=total, limit=page.limit, offset=page.offset
    )


@router.get("/{site_id}", summary="One mine site, with its status in force today", responses=NOT_FOUND)
async def get_site(site_id: UUID, principal: Reader, db: DbRead) -> SiteRead:
    return SiteRead.from_domain(await use_cases.get_site(db, principal, site_id), today=utcnow().date())


@router.patch(
    "/{site_id}",
    summary="Correct a site's description (its status changes only by inspection or lapse)",
    responses={**VERSION_RESPONSES, **NOT_FOUND, **INVALID},
)
async def edit_site(
    site_id: UUID, body: EditSite, principal: Editor, db: DbTransaction, settings: Settings, if_match: IfMatch
) -> SiteRead:
    version = expected_version(body.version, if_match)
    site = await use_cases.edit_site(
        db,
        principal,
        site_id,
        changes=body.changes(),
        version=version,
        border_tolerance_km=settings.kyc_site_border_tolerance_km,
    )
    return SiteRead.from_domain(site, today=utcnow().date())


@router.post(
    "/{site_id}/inspections",
    status_code=201,
    summary="Record an inspection; the latest sets the status",
    responses={**NOT_FOUND, 422: {"description": "date_in_future, unknown_document, ..."}},
)
async def record_inspection(
    site_id: UUID, body: RecordInspection, principal: Reviewer, db: DbTransaction
) -> InspectionRead:
    inspection = await use_cases.record_inspection(
        db,
        principal,
        site_id,
        inspection_date=body.inspection_date,
        inspector=body.inspector,
        agency=body.agency,
        result=body.result,
        notes=body.notes,
        report_document_id=body.report_document_id,
    )
    return InspectionRead.from_domain(inspection)


@router.get("/{site_id}/inspections", summary="A site's inspections, latest first", responses=NOT_FOUND)
async def list_inspections(site_id: UUID, principal: Reader, db: DbRead) -> list[InspectionRead]:
    return [InspectionRead.from_domain(i) for i in await use_cases.list_inspections(db, principal, site_id)]


@router.get("/{site_id}/status-history", summary="Every status decision, in the order made", responses=NOT_FOUND)
async def status_history(site_id: UUID, principal: Reader, db: DbRead) -> list[StatusChangeRead]:
    return [StatusChangeRead.from_domain(c) for c in await use_cases.list_status_changes(db, principal, site_id)]


@router.get("/{site_id}/history", summary="Who changed what on the site, and when (oldest first)", responses=NOT_FOUND)
async def site_history(site_id: UUID, principal: Reader, db: DbRead, page: PageQuery) -> HistoryPage:
    entries, total = await use_cases.list_site_history(db, principal, site_id, page=page)
    return HistoryPage(
        items=[HistoryEntryRead.from_domain(e) for e in entries], total=total, limit=page.limit, offset=page.offset
    )

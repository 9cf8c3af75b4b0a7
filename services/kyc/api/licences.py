"""HTTP routes of licences and permits."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from libs.common.concurrency import VERSION_RESPONSES, IfMatch, expected_version
from libs.common.db import DbRead, DbTransaction, utcnow
from libs.common.pagination import PageQuery
from libs.common.schemas import IsoDate
from services.kyc.access import Creator, Editor, Reader
from services.kyc.api.context import Settings
from services.kyc.schemas.licences import (
    AddLicence,
    LicencePage,
    LicenceRead,
    LicenceState,
    LicenceType,
    UpdateLicence,
)
from services.kyc.use_cases import licences as use_cases

router = APIRouter(tags=["licences"])
NOT_FOUND = {404: {"description": "no such actor or licence visible to the caller's organisation"}}


@router.post(
    "/actors/{actor_id}/licences",
    status_code=201,
    summary="Record a licence or permit of an actor",
    responses={
        **NOT_FOUND,
        409: {"description": "duplicate_licence, document_already_linked"},
        422: {"description": "dates_out_of_order"},
    },
)
async def add_licence(
    actor_id: UUID, body: AddLicence, principal: Creator, db: DbTransaction, settings: Settings
) -> LicenceRead:
    lead_days = settings.kyc_licence_expiry_lead_days
    licence = await use_cases.add_licence(
        db,
        principal,
        actor_id,
        values=body.model_dump(exclude={"document_id"}),
        document_id=body.document_id,
        lead_days=lead_days,
    )
    return LicenceRead.from_domain(licence, today=utcnow().date(), lead_days=lead_days)


@router.get("/actors/{actor_id}/licences", summary="An actor's licences and permits", responses=NOT_FOUND)
async def list_actor_licences(actor_id: UUID, principal: Reader, db: DbRead, settings: Settings) -> list[LicenceRead]:
    today = utcnow().date()
    return [
        LicenceRead.from_domain(licence, today=today, lead_days=settings.kyc_licence_expiry_lead_days)
        for licence in await use_cases.list_actor_licences(db, principal, actor_id)
    ]


@router.get(
    "/licences", summary="The organisation's licences, e.g. those ending before a date, or expiring (state=expiring)"
)
async def list_licences(
    principal: Reader,
    db: DbRead,
    page: PageQuery,
    settings: Settings,
    licence_type: LicenceType | None = None,
    valid_to_before: IsoDate | None = None,
    state: LicenceState | None = None,
) -> LicencePage:
    lead_days = settings.kyc_licence_expiry_lead_days
    licences, total = await use_cases.list_licences(
        db,
        principal,
        licence_type=licence_type,
        valid_to_before=valid_to_before,
        state=state,
        lead_days=lead_days,
        page=page,
    )
    today = utcnow().date()
    return LicencePage(
        items=[LicenceRead.from_domain(licence, today=today, lead_days=lead_days) for licence in licences],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/licences/{licence_id}", summary="One licence", responses=NOT_FOUND)
async def get_licence(licence_id: UUID, principal: Reader, db: DbRead, settings: Settings) -> LicenceRead:
    licence = await use_cases.get_licence(db, principal, licence_id)
    return LicenceRead.from_domain(licence, today=utcnow().date(), lead_days=settings.kyc_licence_expiry_lead_days)


@router.patch(
    "/licences/{licence_id}",
    summary="Correct or renew a licence (a new valid_to is announced again); `version` or If-Match",
    responses={
        **VERSION_RESPONSES,
        **NOT_FOUND,
        409: {"description": "stale_version, duplicate_licence"},
        422: {"description": "dates_out_of_order, version_mismatch, invalid_if_match"},
    },
)
async def update_licence(
    licence_id: UUID,
    body: UpdateLicence,
    principal: Editor,
    db: DbTransaction,
    settings: Settings,
    if_match: IfMatch,
) -> LicenceRead:
    lead_days = settings.kyc_licence_expiry_lead_days
    version = expected_version(body.version, if_match)
    licence = await use_cases.update_licence(
        db, principal, licence_id, changes=body.changes(), lead_days=lead_days, version=version
    )
    return LicenceRead.from_domain(licence, today=utcnow().date(), lead_days=lead_days)

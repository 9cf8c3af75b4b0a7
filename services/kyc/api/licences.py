"""HTTP routes of licences and permits."""
from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.db import DbTransaction, utcnow
from services.kyc.access import Creator, Editor, Reader
from services.kyc.repository import documents as document_repository
from services.kyc.repository import licences as repository
from services.kyc.schemas.licences import (
    AddLicence,
    LicencePage,
    LicenceRead,
    LicenceType,
    UpdateLicence,
)
from services.kyc.tables.register import LicenceRow
from services.kyc.use_cases import licences as use_cases

router = APIRouter(tags=["licences"])
NOT_FOUND = {404: {"description": "no such actor or licence visible to the caller's organisation"}}


async def _read(db: AsyncSession, rows: list[LicenceRow], principal: Principal) -> list[LicenceRead]:
    """Document ids are shown to the owner only: a grantee reads the licence, not the owner's files."""
    owned = [r.id for r in rows if r.org_id == principal.org_id]
    documents = await document_repository.document_ids_by_licence(db, owned) if owned else {}
    today = utcnow().date()
    return [LicenceRead.from_row(r, today=today, document_ids=documents.get(r.id)) for r in rows]


@router.post("/actors/{actor_id}/licences", status_code=201, summary="Record a licence or permit of an actor",
             responses={**NOT_FOUND, 409: {"description": "duplicate_licence, document_already_linked"},
                        422: {"description": "dates_out_of_order"}})
async def add_licence(actor_id: UUID, body: AddLicence, principal: Creator, db: DbTransaction) -> LicenceRead:
    row = await use_cases.add_licence(db, actor_id, body.model_dump(exclude={"document_id"}), principal=principal,
                                      document_id=body.document_id)
    return (await _read(db, [row], principal))[0]


@router.get("/actors/{actor_id}/licences", summary="An actor's licences and permits", responses=NOT_FOUND)
async def list_actor_licences(actor_id: UUID, principal: Reader, db: DbTransaction) -> list[LicenceRead]:
    rows = await use_cases.list_actor_licences(db, actor_id, org_id=principal.org_id)
    return await _read(db, rows, principal)


@router.get("/licences", summary="The organisation's licences, e.g. those ending before a date")
async def list_licences(principal: Reader, db: DbTransaction, licence_type: LicenceType | None = None,
                        valid_to_before: date | None = None, limit: Annotated[int, Query(ge=1, le=500)] = 100,
                        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> LicencePage:
    rows, total = await repository.list_org_licences(db, org_id=principal.org_id, licence_type=licence_type,
                                                     valid_to_before=valid_to_before, limit=limit, offset=offset)
    return LicencePage(items=await _read(db, rows, principal), total=total, limit=limit, offset=offset)


@router.get("/licences/{licence_id}", summary="One licence", responses=NOT_FOUND)
async def get_licence(licence_id: UUID, principal: Reader, db: DbTransaction) -> LicenceRead:
    row = await use_cases.get_visible_licence(db, licence_id, org_id=principal.org_id)
    return (await _read(db, [row], principal))[0]


@router.patch("/licences/{licence_id}", summary="Correct or renew a licence (a new valid_to is announced again)",
              responses={**NOT_FOUND, 409: {"description": "duplicate_licence"},
                         422: {"description": "dates_out_of_order"}})
async def update_licence(licence_id: UUID, body: UpdateLicence, principal: Editor, db: DbTransaction) -> LicenceRead:
    row = await use_cases.update_licence(db, licence_id, body.changes(), principal=principal)
    return (await _read(db, [row], principal))[0]

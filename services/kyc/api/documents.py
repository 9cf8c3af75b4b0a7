"""HTTP routes of documents: multipart upload, metadata, content."""
from __future__ import annotations

from typing import Annotated
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, File, Form, Query, Response, UploadFile

from libs.common.db import DbTransaction
from services.kyc.access import Creator, Reader
from services.kyc.api.context import Settings, Store
from services.kyc.repository import documents as repository
from services.kyc.schemas.documents import DocType, DocumentPage, DocumentRead
from services.kyc.use_cases import documents as use_cases

router = APIRouter(prefix="/documents", tags=["documents"])
NOT_FOUND = {404: {"description": "no such document (or linked entity) in the caller's organisation"}}


@router.post("", status_code=201, summary="Upload a document (pdf, png, jpeg, tiff), optionally linked",
             responses={**NOT_FOUND, 413: {"description": "file_too_large"},
                        415: {"description": "content_type_mismatch, unsupported_content_type"}})
async def upload_document(principal: Creator, db: DbTransaction, settings: Settings, store: Store,
                          file: Annotated[UploadFile, File()], doc_type: Annotated[DocType, Form()],
                          actor_id: Annotated[UUID | None, Form()] = None,
                          person_id: Annotated[UUID | None, Form()] = None,
                          licence_id: Annotated[UUID | None, Form()] = None,
                          site_id: Annotated[UUID | None, Form()] = None,
                          inspection_id: Annotated[UUID | None, Form()] = None) -> DocumentRead:
    limit = settings.kyc_document_max_bytes
    data = await file.read(limit + 1)  # one byte past the limit is enough to refuse it
    upload = use_cases.Upload(data=data, filename=file.filename or "", content_type=file.content_type or "",
                              doc_type=doc_type)
    links = use_cases.Links(actor_id=actor_id, person_id=person_id, licence_id=licence_id, site_id=site_id,
                            inspection_id=inspection_id)
    row = await use_cases.upload_document(db, store, upload, links, principal=principal, max_bytes=limit)
    return DocumentRead.from_row(row)


@router.get("", summary="The organisation's documents, by what they are linked to")
async def list_documents(principal: Reader, db: DbTransaction, actor_id: UUID | None = None,
                         licence_id: UUID | None = None, site_id: UUID | None = None,
                         limit: Annotated[int, Query(ge=1, le=500)] = 100,
                         offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> DocumentPage:
    rows, total = await repository.list_documents(db, org_id=principal.org_id, actor_id=actor_id,
                                                  licence_id=licence_id, site_id=site_id, limit=limit, offset=offset)
    return DocumentPage(items=[DocumentRead.from_row(r) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/{document_id}", summary="A document's metadata", responses=NOT_FOUND)
async def get_document(document_id: UUID, principal: Reader, db: DbTransaction) -> DocumentRead:
    return DocumentRead.from_row(await repository.get_document(db, document_id, org_id=principal.org_id))


@router.get("/{document_id}/content", summary="Download the document's bytes", response_class=Response,
            responses={**NOT_FOUND, 200: {"content": {t: {} for t in ("application/pdf", "image/png", "image/jpeg",
                                                                         "image/tiff")}}})
async def get_document_content(document_id: UUID, principal: Reader, db: DbTransaction, store: Store) -> Response:
    row, data = await use_cases.read_content(db, store, document_id, org_id=principal.org_id)
    disposition = f"attachment; filename*=UTF-8''{quote(row.filename, safe='')}"
    return Response(content=data, media_type=row.content_type,
                    headers={"Content-Disposition": disposition, "ETag": f'"{row.sha256}"',
                             "X-Content-Type-Options": "nosniff"})

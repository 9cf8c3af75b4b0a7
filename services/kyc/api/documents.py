"""HTTP routes of documents: multipart upload, metadata, content."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Form, Response

from libs.common import gate
from libs.common.db import DbRead, DbTransaction
from libs.common.pagination import PageQuery
from services.kyc.access import Creator, Reader
from services.kyc.api.context import Settings, Store
from services.kyc.domain.documents import Links, Upload
from services.kyc.schemas.documents import DocumentPage, DocumentRead, UploadDocument
from services.kyc.use_cases import documents as use_cases

router = APIRouter(prefix="/documents", tags=["documents"])
NOT_FOUND = {404: {"description": "no such document (or linked entity) in the caller's organisation"}}


@router.post(
    "",
    status_code=201,
    summary="Upload a document (pdf, png, jpeg, tiff), optionally linked",
    dependencies=[gate.body_limit(lambda settings: settings.kyc_document_max_bytes)],
    responses={
        **NOT_FOUND,
        413: {"description": "file_too_large; body_too_large (on the headers, before the body is read)"},
        415: {"description": "content_type_mismatch, unsupported_content_type"},
    },
)
async def upload_document(
    principal: Creator,
    db: DbTransaction,
    settings: Settings,
    store: Store,
    form: Annotated[UploadDocument, Form()],
) -> DocumentRead:
    limit, file = settings.kyc_document_max_bytes, form.file
    data = await file.read(limit + 1)  # one byte past the limit is enough to refuse it
    upload = Upload(
        data=data, filename=file.filename or "", content_type=file.content_type or "", doc_type=form.doc_type
    )
    links = Links(
        actor_id=form.actor_id,
        person_id=form.person_id,
        licence_id=form.licence_id,
        site_id=form.site_id,
        inspection_id=form.inspection_id,
    )
    document = await use_cases.upload_document(db, principal, upload=upload, links=links, store=store, max_bytes=limit)
    return DocumentRead.from_domain(document)


@router.get("", summary="The organisation's documents, by what they are linked to")
async def list_documents(
    principal: Reader,
    db: DbRead,
    page: PageQuery,
    actor_id: UUID | None = None,
    licence_id: UUID | None = None,
    site_id: UUID | None = None,
) -> DocumentPage:
    documents, total = await use_cases.list_documents(
        db, principal, linked_to=Links(actor_id=actor_id, licence_id=licence_id, site_id=site_id), page=page
    )
    return DocumentPage(
        items=[DocumentRead.from_domain(d) for d in documents], total=total, limit=page.limit, offset=page.offset
    )


@router.get("/{document_id}", summary="A document's metadata", responses=NOT_FOUND)
async def get_document(document_id: UUID, principal: Reader, db: DbRead) -> DocumentRead:
    return DocumentRead.from_domain(await use_cases.get_document(db, principal, document_id))


@router.get(
    "/{document_id}/content",
    summary="Download the document's bytes",
    response_class=Response,
    responses={
        **NOT_FOUND,
        200: {"content": {t: {} for t in ("application/pdf", "image/png", "image/jpeg", "image/tiff")}},
    },
)
async def get_document_content(document_id: UUID, principal: Reader, db: DbRead, store: Store) -> Response:
    document, data = await use_cases.read_document_content(db, principal, document_id, store=store)
    disposition = f"attachment; filename*=UTF-8''{quote(document.filename, safe='')}"
    return Response(
        content=data,
        media_type=document.content_type,
        headers={
            "Content-Disposition": disposition,
            "ETag": f'"{document.sha256}"',
            "X-Content-Type-Options": "nosniff",
        },
    )

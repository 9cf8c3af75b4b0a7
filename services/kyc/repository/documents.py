"""Queries of document metadata, and the checks that a document's links point into the caller's organisation."""
from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.errors import NotFound
from services.kyc.tables.register import DocumentRow
from services.kyc.tables.sites import MineSiteRow, SiteInspectionRow


async def get_document(db: AsyncSession, document_id: UUID, *, org_id: str) -> DocumentRow:
    """A document of the caller's organisation (raises NotFound otherwise)."""
    row = await db.get(DocumentRow, document_id)
    if row is None or row.org_id != org_id:
        raise NotFound(f"document {document_id} not found", code="document_not_found")
    return row


async def list_documents(db: AsyncSession, *, org_id: str, actor_id: UUID | None = None,
                         licence_id: UUID | None = None, site_id: UUID | None = None, limit: int = 100,
                         offset: int = 0) -> tuple[list[DocumentRow], int]:
    conditions = [DocumentRow.org_id == org_id]
    for column, value in ((DocumentRow.actor_id, actor_id), (DocumentRow.licence_id, licence_id),
                          (DocumentRow.site_id, site_id)):
        if value is not None:
            conditions.append(column == value)
    total = (await db.execute(sa.select(sa.func.count()).select_from(DocumentRow).where(*conditions))).scalar_one()
    query = (sa.select(DocumentRow).where(*conditions).order_by(DocumentRow.uploaded_at, DocumentRow.id)
             .limit(limit).offset(offset))
    return list((await db.execute(query)).scalars()), total


async def list_document_ids(db: AsyncSession, *, actor_id: UUID) -> list[UUID]:
    return list((await db.execute(sa.select(DocumentRow.id).where(DocumentRow.actor_id == actor_id))).scalars())


async def document_ids_by_licence(db: AsyncSession, licence_ids: list[UUID]) -> dict[UUID, list[UUID]]:
    found: dict[UUID, list[UUID]] = {}
    query = (sa.select(DocumentRow.licence_id, DocumentRow.id).where(DocumentRow.licence_id.in_(licence_ids))
             .order_by(DocumentRow.uploaded_at, DocumentRow.id))
    for licence_id, document_id in (await db.execute(query)).all():
        found.setdefault(licence_id, []).append(document_id)
    return found


async def check_site(db: AsyncSession, site_id: UUID, *, org_id: str) -> None:
    row = await db.get(MineSiteRow, site_id)
    if row is None or row.org_id != org_id:
        raise NotFound(f"mine site {site_id} not found", code="site_not_found")


async def check_inspection(db: AsyncSession, inspection_id: UUID, *, org_id: str,
                           site_id: UUID | None) -> UUID:
    """The inspection's site id, after checking it is the caller's (and of `site_id`, when given)."""
    row = await db.get(SiteInspectionRow, inspection_id)
    if row is None or row.org_id != org_id or (site_id is not None and row.site_id != site_id):
        raise NotFound(f"inspection {inspection_id} not found", code="inspection_not_found")
    return row.site_id


def save_document(db: AsyncSession, row: DocumentRow) -> None:
    db.add(row)

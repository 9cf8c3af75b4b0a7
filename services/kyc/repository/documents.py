"""Document metadata as stored; every read is scoped to the caller's organisation."""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import upsert
from libs.common.errors import NotFound
from libs.common.pagination import Pagination, fetch_page
from services.kyc.domain.documents import Document, Links
from services.kyc.repository.rows import column_values, from_row
from services.kyc.tables.register import DocumentRow

Documents = DocumentRow.__table__


async def get_document(db: AsyncSession, document_id: UUID, *, org_id: str) -> Document:
    """A document of the caller's organisation (raises NotFound otherwise)."""
    document = await find_document(db, document_id, org_id=org_id)
    if document is None:
        raise NotFound(f"document {document_id} not found", code="document_not_found")
    return document


async def find_document(db: AsyncSession, document_id: UUID, *, org_id: str) -> Document | None:
    query = sa.select(Documents).where(Documents.c.id == document_id, Documents.c.org_id == org_id)
    row = (await db.execute(query)).one_or_none()
    return None if row is None else from_row(Document, row)


async def list_documents(
    db: AsyncSession, *, org_id: str, linked_to: Links, page: Pagination
) -> tuple[list[Document], int]:
    """The organisation's documents filed under what `linked_to` names (its actor, licence and site links)."""
    query = sa.select(Documents).where(Documents.c.org_id == org_id)
    for column, value in (
        (Documents.c.actor_id, linked_to.actor_id),
        (Documents.c.licence_id, linked_to.licence_id),
        (Documents.c.site_id, linked_to.site_id),
    ):
        if value is not None:
            query = query.where(column == value)
    rows, total = await fetch_page(db, query.order_by(Documents.c.uploaded_at, Documents.c.id), page)
    return [from_row(Document, r) for r in rows], total


async def list_document_ids(db: AsyncSession, *, actor_id: UUID) -> list[UUID]:
    return list((await db.execute(sa.select(Documents.c.id).where(Documents.c.actor_id == actor_id))).scalars())


async def document_ids_by_licence(db: AsyncSession, licence_ids: list[UUID]) -> dict[UUID, list[UUID]]:
    found: dict[UUID, list[UUID]] = {}
    if not licence_ids:
        return found
    query = (
        sa.select(Documents.c.licence_id, Documents.c.id)
        .where(Documents.c.licence_id.in_(licence_ids))
        .order_by(Documents.c.uploaded_at, Documents.c.id)
    )
    for licence_id, document_id in (await db.execute(query)).all():
        found.setdefault(licence_id, []).append(document_id)
    return found


async def save_document(db: AsyncSession, document: Document) -> None:
    await upsert(db, Documents, column_values(document, Documents), keys=["id"])

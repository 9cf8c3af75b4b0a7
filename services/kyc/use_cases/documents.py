"""Documents: checked, stored by content hash, described by a row linked into the caller's organisation."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.db import utcnow
from libs.common.errors import Invalid
from libs.common.storage import ObjectStore, check_content
from services.kyc.domain import documents
from services.kyc.domain.history import created
from services.kyc.repository import actors as actor_repository
from services.kyc.repository import documents as repository
from services.kyc.repository import licences as licence_repository
from services.kyc.repository import persons as person_repository
from services.kyc.tables.register import DocumentRow
from services.kyc.use_cases import announce, history


@dataclass(frozen=True)
class Links:
    actor_id: UUID | None = None
    person_id: UUID | None = None
    licence_id: UUID | None = None
    site_id: UUID | None = None
    inspection_id: UUID | None = None


@dataclass(frozen=True)
class Upload:
    data: bytes
    filename: str
    content_type: str
    doc_type: str


async def upload_document(db: AsyncSession, store: ObjectStore, upload: Upload, links: Links, *,
                          principal: Principal, max_bytes: int) -> DocumentRow:
    """Nothing is written unless the bytes pass; the object write is idempotent by hash, so a failed row
    write leaves at most an unreferenced object that the same upload reuses."""
    if upload.doc_type not in documents.DOC_TYPES:
        raise Invalid(f"unknown document type {upload.doc_type!r}", code="unknown_doc_type")
    content_type = documents.declared_type(upload.content_type, upload.filename)
    check_content(upload.data, content_type, max_bytes=max_bytes, allowed=set(documents.ALLOWED_CONTENT_TYPES))
    links = await _resolve(db, links, org_id=principal.org_id)
    stored = await store.put(upload.data, content_type)
    row = DocumentRow(id=uuid4(), org_id=principal.org_id, doc_type=upload.doc_type,
                      filename=documents.safe_filename(upload.filename), content_type=content_type,
                      size=stored.size, sha256=stored.sha256, object_key=stored.key, uploaded_by=principal.user_id,
                      uploaded_at=utcnow(), **vars(links))
    repository.save_document(db, row)
    history.record(db, org_id=row.org_id, user_id=principal.user_id, entity_type="document", entity_id=row.id,
                   action="uploaded", actor_id=row.actor_id, changes=created(
                       {f: getattr(row, f) for f in ("doc_type", "filename", "content_type", "size", "sha256",
                                                     *vars(links))}))
    await announce.document_event(db, row, document_id=row.id, doc_type=row.doc_type, sha256=row.sha256,
                                  size=row.size, content_type=row.content_type, uploaded_by=row.uploaded_by,
                                  **vars(links))
    return row


async def _resolve(db: AsyncSession, links: Links, *, org_id: str) -> Links:
    """Every link checked against the caller's organisation; a person's or licence's actor is filled in."""
    actor_id = links.actor_id
    for part_actor in await _parts_actors(db, links, org_id=org_id):
        if actor_id is not None and actor_id != part_actor:
            raise Invalid("the person or licence belongs to another actor", code="link_mismatch")
        actor_id = part_actor
    if actor_id is not None:
        await actor_repository.get_actor(db, actor_id, org_id=org_id)
    site_id = links.site_id
    if links.inspection_id is not None:
        site_id = await repository.check_inspection(db, links.inspection_id, org_id=org_id, site_id=site_id)
    elif site_id is not None:
        await repository.check_site(db, site_id, org_id=org_id)
    return replace(links, actor_id=actor_id, site_id=site_id)


async def _parts_actors(db: AsyncSession, links: Links, *, org_id: str) -> list[UUID]:
    found = []
    if links.person_id is not None:
        found.append((await person_repository.get_person(db, links.person_id, org_id=org_id)).actor_id)
    if links.licence_id is not None:
        found.append((await licence_repository.get_licence(db, links.licence_id, org_id=org_id)).actor_id)
    return found


async def read_content(db: AsyncSession, store: ObjectStore, document_id: UUID, *,
                       org_id: str) -> tuple[DocumentRow, bytes]:
    row = await repository.get_document(db, document_id, org_id=org_id)
    data = await store.get(row.object_key)
    if hashlib.sha256(data).hexdigest() != row.sha256:
        raise RuntimeError(f"stored object {row.object_key} does not match its sha256")  # storage corruption
    return row, data

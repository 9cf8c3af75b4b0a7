"""Documents: checked, stored by content hash, described and filed under links into the caller's organisation."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.db import utcnow
from libs.common.errors import Invalid, UnknownReference, referenced
from libs.common.pagination import Pagination
from libs.common.storage import ObjectStore, check_content
from services.kyc.domain import documents
from services.kyc.domain.documents import Document, Links, Upload
from services.kyc.domain.history import created
from services.kyc.repository import actors as actor_repository
from services.kyc.repository import documents as repository
from services.kyc.repository import licences as licence_repository
from services.kyc.repository import persons as person_repository
from services.kyc.repository import sites as site_repository
from services.kyc.use_cases import announce, history

RECORDED = (
    "doc_type",
    "filename",
    "content_type",
    "size",
    "sha256",
    "actor_id",
    "person_id",
    "licence_id",
    "site_id",
    "inspection_id",
)


async def upload_document(
    db: AsyncSession, principal: Principal, *, upload: Upload, links: Links, store: ObjectStore, max_bytes: int
) -> Document:
    """Nothing is written unless the bytes pass; the object write is idempotent by hash, so a failed row write
    leaves at most an unreferenced object that the same upload reuses."""
    content_type = upload.checked_type()
    check_content(upload.data, content_type, max_bytes=max_bytes, allowed=set(documents.ALLOWED_CONTENT_TYPES))
    links = await _resolve(db, links, org_id=principal.org_id)
    stored = await store.put(upload.data, content_type)
    document, event = Document.upload(
        upload,
        content_type=content_type,
        org_id=principal.org_id,
        size=stored.size,
        sha256=stored.sha256,
        object_key=stored.key,
        links=links,
        by=principal.user_id,
        now=utcnow(),
    )
    await repository.save_document(db, document)
    history.record(
        db,
        org_id=document.org_id,
        user_id=principal.user_id,
        entity_type="document",
        entity_id=document.id,
        action="uploaded",
        actor_id=document.actor_id,
        changes=created({name: getattr(document, name) for name in RECORDED}),
    )
    await announce.document_uploaded(db, document, event)
    return document


async def _resolve(db: AsyncSession, links: Links, *, org_id: str) -> Links:
    """Every link checked against the caller's organisation; a person's or licence's actor is filled in."""
    actor_id = links.actor_id
    for part_actor in await _parts_actors(db, links, org_id=org_id):
        if actor_id is not None and actor_id != part_actor:
            raise Invalid("the person or licence belongs to another actor", code="link_mismatch")
        actor_id = part_actor
    if actor_id is not None:  # an actor only shared with the organisation: 403 read_only_share
        lookup = actor_repository.get_actor(db, actor_id, org_id=org_id)
        await referenced(lookup, field="actor_id", code="unknown_actor", what="actor")
    site_id = links.site_id
    if links.inspection_id is not None:
        lookup_inspection = site_repository.get_inspection(db, links.inspection_id, org_id=org_id)
        inspection = await referenced(
            lookup_inspection, field="inspection_id", code="unknown_inspection", what="inspection"
        )
        if site_id is not None and inspection.site_id != site_id:
            raise Invalid("the inspection belongs to another site", code="link_mismatch", field="inspection_id")
        site_id = inspection.site_id
    elif site_id is not None:
        lookup_site = site_repository.get_site(db, site_id, org_id=org_id)
        await referenced(lookup_site, field="site_id", code="unknown_site", what="mine site")
    return replace(links, actor_id=actor_id, site_id=site_id)


async def _parts_actors(db: AsyncSession, links: Links, *, org_id: str) -> list[UUID]:
    found = []
    if links.person_id is not None:
        lookup = person_repository.get_person(db, links.person_id, org_id=org_id)
        found.append((await referenced(lookup, field="person_id", code="unknown_person", what="person")).actor_id)
    if links.licence_id is not None:
        licence = await licence_repository.find_licence(db, links.licence_id, org_id=org_id)
        if licence is None:  # one read through a share is not the caller's to file documents under
            await _shared_licence_refusal(db, links.licence_id, org_id=org_id)
            raise UnknownReference("licence_id", code="unknown_licence", what="licence")
        found.append(licence.actor_id)
    return found


async def _shared_licence_refusal(db: AsyncSession, licence_id: UUID, *, org_id: str) -> None:
    shared = await licence_repository.find_visible_licence(db, licence_id, org_id=org_id)
    if shared is not None:
        raise await actor_repository.not_owned(db, shared.actor_id, org_id=org_id)


async def get_document(db: AsyncSession, principal: Principal, document_id: UUID) -> Document:
    return await repository.get_document(db, document_id, org_id=principal.org_id)


async def list_documents(
    db: AsyncSession, principal: Principal, *, linked_to: Links, page: Pagination
) -> tuple[list[Document], int]:
    """The organisation's documents, by what they are filed under."""
    return await repository.list_documents(db, org_id=principal.org_id, linked_to=linked_to, page=page)


async def read_document_content(
    db: AsyncSession, principal: Principal, document_id: UUID, *, store: ObjectStore
) -> tuple[Document, bytes]:
    document = await repository.get_document(db, document_id, org_id=principal.org_id)
    data = await store.get(document.object_key)
    if hashlib.sha256(data).hexdigest() != document.sha256:
        raise RuntimeError(f"stored object {document.object_key} does not match its sha256")  # storage corruption
    return document, data

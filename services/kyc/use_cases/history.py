"""The audit trail: every change keeps who, when and what (field-level before/after); and reading it."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict, Unpack
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.db import utcnow
from libs.common.pagination import Pagination
from services.kyc.domain.history import AuditEntry, jsonable
from services.kyc.repository import actors as actor_repository
from services.kyc.repository import documents as document_repository
from services.kyc.repository import history as repository
from services.kyc.repository import licences as licence_repository
from services.kyc.repository import persons as person_repository


class EntryFields(TypedDict):
    """What an audit entry says: who, of which organisation, did what to which record; `actor_id` files it under
    that actor's history."""

    org_id: str
    user_id: str
    entity_type: str
    entity_id: UUID | str
    action: str
    changes: NotRequired[dict[str, Any] | None]
    actor_id: NotRequired[UUID | None]


def record(db: AsyncSession, **fields: Unpack[EntryFields]) -> None:
    """Add an audit entry to the caller's transaction."""
    repository.save_entry(db, entry(**fields))


def entry(
    *,
    org_id: str,
    user_id: str,
    entity_type: str,
    entity_id: UUID | str,
    action: str,
    changes: dict[str, Any] | None = None,
    actor_id: UUID | None = None,
) -> AuditEntry:
    """The audit entry `record` adds, for a caller that writes it with its own statement."""
    return AuditEntry(
        org_id=org_id,
        entity_type=entity_type,
        entity_id=str(entity_id),
        action=action,
        user_id=user_id,
        at=utcnow(),
        changes=jsonable(changes or {}),
        actor_id=actor_id,
    )


async def list_actor_history(
    db: AsyncSession, principal: Principal, actor_id: UUID, *, page: Pagination
) -> tuple[list[AuditEntry], int]:
    """The actor's entries and those of its persons, licences and documents, oldest first."""
    actor = await actor_repository.get_actor(
        db, actor_id, org_id=principal.org_id, if_shared=actor_repository.NOT_SHARED
    )
    parts = [
        *await person_repository.list_person_ids(db, actor_id=actor.id),
        *await licence_repository.list_licence_ids(db, actor_id=actor.id),
        *await document_repository.list_document_ids(db, actor_id=actor.id),
    ]
    return await repository.list_actor_entries(
        db, org_id=actor.org_id, actor_id=actor.id, entity_ids=[str(actor.id), *map(str, parts)], page=page
    )

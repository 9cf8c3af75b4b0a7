"""The audit trail: every change keeps who, when and what (field-level before/after)."""
from __future__ import annotations

from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import utcnow
from services.kyc.domain.history import jsonable
from services.kyc.repository import actors as actor_repository
from services.kyc.repository import documents as document_repository
from services.kyc.repository import history as repository
from services.kyc.repository import licences as licence_repository
from services.kyc.repository import persons as person_repository
from services.kyc.tables.register import AuditEntryRow

SYSTEM = "system"  # user_id of changes made by scheduled jobs


def record(db: AsyncSession, *, org_id: str, user_id: str, entity_type: str, entity_id: UUID | str, action: str,
           changes: dict | None = None, actor_id: UUID | None = None) -> None:
    """Add an audit entry to the caller's transaction; `actor_id` files it under that actor's history."""
    repository.save_entry(db, AuditEntryRow(
        id=uuid4(), org_id=org_id, entity_type=entity_type, entity_id=str(entity_id), action=action,
        user_id=user_id, at=utcnow(), changes=jsonable(changes or {}), actor_id=actor_id))


async def actor_history(db: AsyncSession, actor_id: UUID, *, org_id: str, limit: int,
                        offset: int) -> tuple[list[AuditEntryRow], int]:
    """The actor's entries and those of its persons, licences and documents, oldest first."""
    await actor_repository.get_actor(db, actor_id, org_id=org_id)
    parts = [*await person_repository.list_person_ids(db, actor_id=actor_id),
             *await licence_repository.list_licence_ids(db, actor_id=actor_id),
             *await document_repository.list_document_ids(db, actor_id=actor_id)]
    return await repository.list_actor_entries(db, org_id=org_id, actor_id=actor_id,
                                               entity_ids=[str(actor_id), *map(str, parts)], limit=limit,
                                               offset=offset)

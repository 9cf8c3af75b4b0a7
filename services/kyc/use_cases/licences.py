"""Licences and permits: recorded under an actor, renewed, and announced once as expiring and once as expired."""
from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.db import utcnow
from libs.common.errors import Conflict
from libs.common.events.kyc import ActorUpdated, LicenceExpired, LicenceExpiring
from services.kyc.domain import licences
from services.kyc.domain.history import created, diff, snapshot
from services.kyc.repository import actors as actor_repository
from services.kyc.repository import documents as document_repository
from services.kyc.repository import licences as repository
from services.kyc.tables.register import LicenceRow
from services.kyc.use_cases import announce, history

BATCH = 5000


async def add_licence(db: AsyncSession, actor_id: UUID, values: dict[str, Any], *, principal: Principal,
                      document_id: UUID | None = None) -> LicenceRow:
    actor = await actor_repository.get_actor(db, actor_id, org_id=principal.org_id)
    clean = licences.normalise(values)
    now = utcnow()
    row = LicenceRow(id=uuid4(), org_id=actor.org_id, actor_id=actor.id, created_at=now, updated_at=now,
                     **{field: clean.get(field) for field in licences.EDITABLE_FIELDS})
    await repository.save_licence(db, row)
    changes = created(snapshot(row, licences.EDITABLE_FIELDS))
    if document_id is not None:
        await _attach_document(db, row, document_id, principal=principal)
        changes["document_id"] = {"before": None, "after": str(document_id)}
    await _recorded(db, row, action="added", changes=changes, principal=principal)
    return row


async def update_licence(db: AsyncSession, licence_id: UUID, changes: dict[str, Any], *,
                         principal: Principal) -> LicenceRow:
    # Locked: the expiry job must not mark the old end date as announced after we reset the marks.
    row = await repository.get_licence(db, licence_id, org_id=principal.org_id, for_update=True)
    before = snapshot(row, licences.EDITABLE_FIELDS)
    clean = licences.normalise({**before, **changes})
    changed = diff(before, {field: clean[field] for field in licences.EDITABLE_FIELDS})
    if not changed:
        return row
    for field in changed:
        setattr(row, field, clean[field])
    if "valid_to" in changed:  # a renewed licence is announced again for its new end date
        row.expiring_notified_at = row.expired_notified_at = None
    row.updated_at = utcnow()
    await repository.save_licence(db, row)
    await _recorded(db, row, action="updated", changes=changed, principal=principal)
    return row


async def get_visible_licence(db: AsyncSession, licence_id: UUID, *, org_id: str) -> LicenceRow:
    """A licence of an actor the caller owns or was shared with."""
    row = await db.get(LicenceRow, licence_id)
    if row is not None:
        await actor_repository.get_visible_actor(db, row.actor_id, org_id=org_id)
        return row
    return await repository.get_licence(db, licence_id, org_id=org_id)  # raises NotFound


async def list_actor_licences(db: AsyncSession, actor_id: UUID, *, org_id: str) -> list[LicenceRow]:
    actor = await actor_repository.get_visible_actor(db, actor_id, org_id=org_id)
    return await repository.list_licences(db, actor_id=actor.id)


async def announce_expiries(db: AsyncSession, now: datetime, *, lead_days: int) -> int:
    """Scheduled: LicenceExpired once after a licence's last valid day, LicenceExpiring once when that day is
    within `lead_days` (UTC dates); each licence is marked in this transaction, so reruns announce nothing twice."""
    today = now.date()
    expired = await repository.claim_expired(db, today=today, limit=BATCH)
    for row in expired:
        row.expired_notified_at = now
        await _announce(db, row, LicenceExpired, action="expired_announced")
    cutoff = licences.expiring_cutoff(today, lead_days)
    expiring = await repository.claim_expiring(db, today=today, cutoff=cutoff, limit=BATCH)
    for row in expiring:
        row.expiring_notified_at = now
        await _announce(db, row, LicenceExpiring, action="expiring_announced")
    return len(expired) + len(expiring)


async def _announce(db: AsyncSession, row: LicenceRow, event_class: type[LicenceExpiring | LicenceExpired], *,
                    action: str) -> None:
    # Keyed by the actor, so one actor's events stay in order (and the version is the actor's).
    await announce.actor_event(db, await repository.actor_of(db, row), event_class, licence_id=row.id,
                               licence_type=row.licence_type, number=row.number, valid_to=row.valid_to)
    history.record(db, org_id=row.org_id, user_id=history.SYSTEM, entity_type="licence", entity_id=row.id,
                   action=action, actor_id=row.actor_id, changes={"valid_to": {"before": None,
                                                                                "after": row.valid_to}})


async def _recorded(db: AsyncSession, row: LicenceRow, *, action: str, changes: dict[str, Any],
                    principal: Principal) -> None:
    history.record(db, org_id=row.org_id, user_id=principal.user_id, entity_type="licence", entity_id=row.id,
                   action=f"licence_{action}", changes=changes, actor_id=row.actor_id)
    await announce.actor_event(db, await repository.actor_of(db, row), ActorUpdated, changed_fields=sorted(changes),
                               part="licence", part_id=row.id, action=action, updated_by=principal.user_id,
                               licence=announce.licence_state(row))


async def _attach_document(db: AsyncSession, row: LicenceRow, document_id: UUID, *, principal: Principal) -> None:
    document = await document_repository.get_document(db, document_id, org_id=principal.org_id)
    if document.actor_id not in (None, row.actor_id) or document.licence_id is not None:
        raise Conflict(f"document {document_id} already belongs to another actor or licence",
                       code="document_already_linked")
    document.actor_id, document.licence_id = row.actor_id, row.id
    history.record(db, org_id=row.org_id, user_id=principal.user_id, entity_type="document", entity_id=document.id,
                   action="linked", actor_id=row.actor_id,
                   changes={"licence_id": {"before": None, "after": str(row.id)}})

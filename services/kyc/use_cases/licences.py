"""Licences and permits: recorded under an actor, renewed, read (by the owner and grantees), and announced once as
expiring and once as expired."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.db import utcnow
from libs.common.errors import NotFound, referenced
from libs.common.events.kyc import KycEvent, LicenceExpired, LicenceExpiring
from libs.common.pagination import Pagination
from services.kyc.domain import licences as rules
from services.kyc.domain.actors import Actor
from services.kyc.domain.history import SYSTEM, created, diff
from services.kyc.domain.licences import Licence
from services.kyc.repository import actors as actor_repository
from services.kyc.repository import documents as document_repository
from services.kyc.repository import licences as repository
from services.kyc.use_cases import announce, history
from services.kyc.use_cases.actors import actor_for_change

BATCH = 5000


async def add_licence(
    db: AsyncSession,
    principal: Principal,
    actor_id: UUID,
    *,
    values: dict[str, Any],
    lead_days: int,
    document_id: UUID | None = None,
) -> Licence:
    """A licence recorded already expired, or ending within `lead_days`, is announced so at once (and marked, so
    the expiry job does not announce it again)."""
    actor = await actor_for_change(db, principal, actor_id)
    document = None
    if document_id is not None:
        document = await referenced(
            document_repository.get_document(db, document_id, org_id=principal.org_id),
            field="document_id",
            code="unknown_document",
            what="document",
        )
    now = utcnow()
    licence, event = actor.add_licence(values, document=document, by=principal.user_id, now=now)
    notices = actor.announce_licence_due(licence, lead_days=lead_days, now=now)
    await repository.save_licence(db, licence)  # the same number twice for one actor: 409 duplicate_licence
    changes = created(licence.editable())
    if document is not None:
        await document_repository.save_document(db, document)
        history.record(
            db,
            org_id=licence.org_id,
            user_id=principal.user_id,
            entity_type="document",
            entity_id=document.id,
            action="linked",
            actor_id=licence.actor_id,
            changes={"licence_id": {"before": None, "after": str(licence.id)}},
        )
        changes["document_id"] = {"before": None, "after": str(document.id)}
    await _changed(db, principal, actor, licence, [event, *notices], action="added", changes=changes)
    return await _with_documents_of(db, principal, licence)


async def update_licence(
    db: AsyncSession,
    principal: Principal,
    licence_id: UUID,
    *,
    changes: dict[str, Any],
    lead_days: int,
    version: int | None = None,
) -> Licence:
    """A correction or renewal; one that leaves the licence expired or within `lead_days` of its end is announced
    so at once, unless that notice was given already. `version` is the licence's the client read (409
    stale_version when it moved since)."""
    # The licence is locked before its actor, in the order the expiry job takes them: the job must not mark the
    # old end date as announced after the marks were reset, and the two never deadlock.
    licence = await repository.find_licence(db, licence_id, org_id=principal.org_id, for_update=True)
    if licence is None:
        raise await _not_changeable(db, principal, licence_id)
    licence.check_version(version)
    actor = await actor_for_change(db, principal, licence.actor_id)
    before, now = licence.editable(), utcnow()
    event = actor.update_licence(licence, changes, by=principal.user_id, now=now)
    if event is not None:
        notices = actor.announce_licence_due(licence, lead_days=lead_days, now=now)
        await repository.save_licence(db, licence)
        changed = diff(before, licence.editable())
        await _changed(db, principal, actor, licence, [event, *notices], action="updated", changes=changed)
    return await _with_documents_of(db, principal, licence)


async def get_licence(db: AsyncSession, principal: Principal, licence_id: UUID) -> Licence:
    """A licence of an actor the caller owns or was shared with."""
    licence = await repository.get_visible_licence(db, licence_id, org_id=principal.org_id)
    return await _with_documents_of(db, principal, licence)


async def _not_changeable(db: AsyncSession, principal: Principal, licence_id: UUID) -> Exception:
    """403 read_only_share for a licence the caller reads through a share, else 404 (nothing of another's named)."""
    shared = await repository.find_visible_licence(db, licence_id, org_id=principal.org_id)
    if shared is None:
        return NotFound(f"licence {licence_id} not found", code="licence_not_found")
    return await actor_repository.not_owned(db, shared.actor_id, org_id=principal.org_id)


async def list_actor_licences(db: AsyncSession, principal: Principal, actor_id: UUID) -> list[Licence]:
    actor = await actor_repository.get_visible_actor(db, actor_id, org_id=principal.org_id)
    return await _with_documents(db, principal, await repository.list_licences(db, actor_id=actor.id))


async def list_licences(
    db: AsyncSession,
    principal: Principal,
    *,
    licence_type: str | None,
    valid_to_before: date | None,
    page: Pagination,
    state: str | None = None,
    lead_days: int = 0,
) -> tuple[list[Licence], int]:
    """The licences the organisation owns or reads through shares (as each actor's list shows them), e.g. those
    ending before a date, or in one state today (`lead_days` says which are expiring)."""
    found, total = await repository.list_visible_licences(
        db,
        org_id=principal.org_id,
        licence_type=licence_type,
        valid_to_before=valid_to_before,
        state=state,
        today=utcnow().date(),
        lead_days=lead_days,
        page=page,
    )
    return await _with_documents(db, principal, found), total


async def _with_documents(db: AsyncSession, principal: Principal, licences: list[Licence]) -> list[Licence]:
    """The ids of the documents under each licence, for its owner only: a grantee reads the licence, not the
    owner's files."""
    owned = [licence.id for licence in licences if licence.org_id == principal.org_id]
    documents = await document_repository.document_ids_by_licence(db, owned)
    for licence in licences:
        licence.document_ids = documents.get(licence.id, [])
    return licences


async def _with_documents_of(db: AsyncSession, principal: Principal, licence: Licence) -> Licence:
    return (await _with_documents(db, principal, [licence]))[0]


async def announce_expiries(db: AsyncSession, now: datetime, *, lead_days: int) -> int:
    """Scheduled: LicenceExpired once after a licence's last valid day, LicenceExpiring once when that day is
    within `lead_days` (UTC dates); each licence is marked in this transaction, so reruns announce nothing twice."""
    today = now.date()
    expired = await repository.claim_expired(db, today=today, limit=BATCH)
    for licence in _by_actor(expired):
        actor = await actor_repository.get_actor(db, licence.actor_id, org_id=licence.org_id, for_update=True)
        await _announced(
            db, actor, licence, actor.announce_licence_expired(licence, now=now), action="expired_announced"
        )
    cutoff = rules.expiring_cutoff(today, lead_days)
    expiring = await repository.claim_expiring(db, today=today, cutoff=cutoff, limit=BATCH)
    for licence in _by_actor(expiring):
        actor = await actor_repository.get_actor(db, licence.actor_id, org_id=licence.org_id, for_update=True)
        await _announced(
            db, actor, licence, actor.announce_licence_expiring(licence, now=now), action="expiring_announced"
        )
    return len(expired) + len(expiring)


def _by_actor(licences: list[Licence]) -> list[Licence]:
    # Actors are locked in one order by every worker, so two never wait on each other (stable: an actor's own
    # licences keep their order).
    return sorted(licences, key=lambda licence: licence.actor_id)


async def _announced(
    db: AsyncSession, actor: Actor, licence: Licence, event: LicenceExpired | LicenceExpiring, *, action: str
) -> None:
    await repository.save_licence(db, licence)
    await announce.save_actor(db, actor, event)  # keyed by the actor, so one actor's events stay in order
    _record_notice(db, SYSTEM, licence, action=action)


def _record_notice(db: AsyncSession, user_id: str, licence: Licence, *, action: str) -> None:
    history.record(
        db,
        org_id=licence.org_id,
        user_id=user_id,
        entity_type="licence",
        entity_id=licence.id,
        action=action,
        actor_id=licence.actor_id,
        changes={"valid_to": {"before": None, "after": licence.valid_to}},
    )


async def _changed(
    db: AsyncSession,
    principal: Principal,
    actor: Actor,
    licence: Licence,
    events: list[KycEvent],
    *,
    action: str,
    changes: dict[str, Any],
) -> None:
    """The change's history entry, then the change (ActorUpdated) and any expiry notice it made due, in order."""
    history.record(
        db,
        org_id=licence.org_id,
        user_id=principal.user_id,
        entity_type="licence",
        entity_id=licence.id,
        action=f"licence_{action}",
        changes=changes,
        actor_id=licence.actor_id,
    )
    for notice in events[1:]:  # the system's announcement, as when the job makes it, right after the user's change
        action = "expired_announced" if isinstance(notice, LicenceExpired) else "expiring_announced"
        _record_notice(db, SYSTEM, licence, action=action)
    await announce.save_actor(db, actor, *events)

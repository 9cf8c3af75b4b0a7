"""Beneficial owners and key persons: added, changed and removed under their actor, each change screened."""
from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.db import utcnow
from libs.common.events.kyc import ActorUpdated
from services.kyc.domain import persons, workflow
from services.kyc.domain.history import created, diff, removed, snapshot
from services.kyc.repository import actors as actor_repository
from services.kyc.repository import persons as repository
from services.kyc.tables.register import ActorRow, PersonRow
from services.kyc.use_cases import announce, history, reviews, screening


async def _editable_actor(db: AsyncSession, actor_id: UUID, *, principal: Principal) -> ActorRow:
    # Locked: two owners added at once must not both pass the 100 % check.
    actor = await actor_repository.get_actor(db, actor_id, org_id=principal.org_id, for_update=True)
    workflow.check_editable(actor.kyc_status)
    return actor


async def add_person(db: AsyncSession, actor_id: UUID, values: dict[str, Any], *, principal: Principal) -> PersonRow:
    actor = await _editable_actor(db, actor_id, principal=principal)
    now = utcnow()
    clean = persons.normalise(values, today=now.date())
    others = await repository.list_persons(db, actor_id=actor.id)
    persons.check_ownership([(p.role, p.ownership_pct) for p in others] + [(clean["role"], clean["ownership_pct"])])
    row = PersonRow(id=uuid4(), org_id=actor.org_id, actor_id=actor.id, created_at=now, updated_at=now,
                    **{field: clean.get(field) for field in persons.EDITABLE_FIELDS})
    repository.save_person(db, row)
    changes = created(snapshot(row, persons.EDITABLE_FIELDS))
    await _after_change(db, actor, row, action="person_added", changes=changes, principal=principal, screen=True)
    return row


async def update_person(db: AsyncSession, actor_id: UUID, person_id: UUID, changes: dict[str, Any], *,
                        principal: Principal) -> PersonRow:
    actor = await _editable_actor(db, actor_id, principal=principal)
    row = await repository.get_person(db, person_id, org_id=principal.org_id, actor_id=actor.id)
    before = snapshot(row, persons.EDITABLE_FIELDS)
    now = utcnow()
    clean = persons.normalise({**before, **changes}, today=now.date())
    changed = diff(before, {field: clean[field] for field in persons.EDITABLE_FIELDS})
    if not changed:
        return row
    others = [p for p in await repository.list_persons(db, actor_id=actor.id) if p.id != row.id]
    persons.check_ownership([(p.role, p.ownership_pct) for p in others] + [(clean["role"], clean["ownership_pct"])])
    for field in changed:
        setattr(row, field, clean[field])
    row.updated_at = now
    repository.save_person(db, row)
    await _after_change(db, actor, row, action="person_updated", changes=changed, principal=principal,
                        screen=bool(set(persons.SCREENED_FIELDS) & changed.keys()))
    return row


async def remove_person(db: AsyncSession, actor_id: UUID, person_id: UUID, *, principal: Principal) -> None:
    actor = await _editable_actor(db, actor_id, principal=principal)
    row = await repository.get_person(db, person_id, org_id=principal.org_id, actor_id=actor.id)
    changes = removed(snapshot(row, persons.EDITABLE_FIELDS))
    await repository.delete_person(db, row)
    await _after_change(db, actor, row, action="person_removed", changes=changes, principal=principal, screen=False)


async def _after_change(db: AsyncSession, actor: ActorRow, row: PersonRow, *, action: str, changes: dict[str, Any],
                        principal: Principal, screen: bool) -> None:
    """History, the ActorUpdated event, a screening request, and an earlier review for an approved actor."""
    history.record(db, org_id=actor.org_id, user_id=principal.user_id, entity_type="person", entity_id=row.id,
                   action=action, changes=changes, actor_id=actor.id)
    review_change = reviews.bring_review_forward(actor, utcnow().date())
    if review_change:
        actor.version += 1
        history.record(db, org_id=actor.org_id, user_id=principal.user_id, entity_type="actor", entity_id=actor.id,
                       action="review_brought_forward", changes=review_change, actor_id=actor.id)
    await announce.actor_event(db, actor, ActorUpdated, changed_fields=sorted(changes), part="person",
                               part_id=row.id, action=action.removeprefix("person_"), updated_by=principal.user_id)
    if screen:
        await screening.request_screening(db, org_id=actor.org_id, actor_id=actor.id, subject_type="person",
                                          subject_id=row.id)
    await db.flush()

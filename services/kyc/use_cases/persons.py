"""Beneficial owners and key persons: added, changed and removed under their actor, each change screened."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.db import utcnow
from libs.common.events.kyc import ActorUpdated, KycEvent
from services.kyc.domain.actors import Actor
from services.kyc.domain.history import created, diff, removed
from services.kyc.domain.persons import SCREENED_FIELDS, Person
from services.kyc.repository import actors as actor_repository
from services.kyc.repository import persons as repository
from services.kyc.use_cases import announce, history, screening
from services.kyc.use_cases.actors import actor_for_change, changes_of, record_change


async def add_person(db: AsyncSession, principal: Principal, actor_id: UUID, *, values: dict[str, Any]) -> Person:
    # The actor is locked first: two owners added at once must not both pass the 100 % check.
    actor = await actor_for_change(db, principal, actor_id)
    before = actor.audited()
    others = await repository.list_persons(db, actor_id=actor.id)
    person, events = actor.add_person(values, others=others, by=principal.user_id, now=utcnow())
    await repository.save_person(db, person)
    await _changed(db, principal, actor, before, person, events, changes=created(person.editable()), screen=True)
    return person


async def update_person(
    db: AsyncSession,
    principal: Principal,
    actor_id: UUID,
    person_id: UUID,
    *,
    changes: dict[str, Any],
    version: int | None = None,
) -> Person:
    """`version` is the person's the client read (409 stale_version when it moved since)."""
    actor = await actor_for_change(db, principal, actor_id)
    before = actor.audited()
    person = await repository.get_person(db, person_id, org_id=principal.org_id, actor_id=actor.id)
    person.check_version(version)
    person_before = person.editable()
    others = await repository.list_persons(db, actor_id=actor.id)
    events = actor.update_person(person, changes, others=others, by=principal.user_id, now=utcnow())
    if not events:
        return person
    await repository.save_person(db, person)
    await _changed(
        db,
        principal,
        actor,
        before,
        person,
        events,
        changes=diff(person_before, person.editable()),
        screen=bool(set(SCREENED_FIELDS) & set(changes_of(events))),
    )
    return person


async def remove_person(
    db: AsyncSession, principal: Principal, actor_id: UUID, person_id: UUID, *, version: int | None = None
) -> None:
    actor = await actor_for_change(db, principal, actor_id)
    before = actor.audited()
    person = await repository.get_person(db, person_id, org_id=principal.org_id, actor_id=actor.id)
    person.check_version(version)
    events = actor.remove_person(person, by=principal.user_id, now=utcnow())
    await repository.delete_person(db, person)
    await _changed(db, principal, actor, before, person, events, changes=removed(person.editable()), screen=False)


async def list_persons(db: AsyncSession, principal: Principal, actor_id: UUID) -> list[Person]:
    actor = await actor_repository.get_actor(
        db, actor_id, org_id=principal.org_id, if_shared=actor_repository.NOT_SHARED
    )
    return await repository.list_persons(db, actor_id=actor.id)


async def get_person(db: AsyncSession, principal: Principal, actor_id: UUID, person_id: UUID) -> Person:
    """Persons are their actor's owner's: a grantee of the actor is told so (403 not_shared), as by the list."""
    actor = await actor_repository.get_actor(
        db, actor_id, org_id=principal.org_id, if_shared=actor_repository.NOT_SHARED
    )
    return await repository.get_person(db, person_id, org_id=principal.org_id, actor_id=actor.id)


async def _changed(
    db: AsyncSession,
    principal: Principal,
    actor: Actor,
    before: dict[str, Any],
    person: Person,
    events: list[KycEvent],
    *,
    changes: dict[str, Any],
    screen: bool,
) -> None:
    """History of the person (and of the actor, when the change made its review due: why, and the review date
    before and after), the events, a screening request."""
    updated = next(e for e in events if isinstance(e, ActorUpdated))
    history.record(
        db,
        org_id=actor.org_id,
        user_id=principal.user_id,
        entity_type="person",
        entity_id=person.id,
        action=f"person_{updated.action}",
        changes=changes,
        actor_id=actor.id,
    )
    if review_change := diff(before, actor.audited()):
        record_change(db, principal, actor, action="review_requested", changes=review_change)
    await announce.save_actor(db, actor, *events)
    if screen:
        await screening.request_screening(
            db, org_id=actor.org_id, actor_id=actor.id, subject_type="person", subject_id=person.id
        )

"""Registering, reading and correcting actors: each change is checked, recorded, announced and screened in one
transaction."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.db import Executor, utcnow
from libs.common.events.kyc import ActorUpdated, KycEvent
from libs.common.pagination import Pagination
from services.kyc.domain.actors import SCREENED_FIELDS, Actor
from services.kyc.domain.history import created, diff
from services.kyc.domain.screening import ScreeningRequest
from services.kyc.repository import actors as repository
from services.kyc.repository import history as history_repository
from services.kyc.repository import screening as screening_repository
from services.kyc.repository.actors import ActorFilter
from services.kyc.use_cases import announce, history, screening


async def actor_for_change(
    db: AsyncSession, principal: Principal, actor_id: UUID, *, version: int | None = None
) -> Actor:
    """The caller's actor, locked to the end of the transaction and checked against the version the client read
    (None: the client did not send one). Every change of an actor starts here."""
    actor = await repository.get_actor(db, actor_id, org_id=principal.org_id, for_update=True)
    actor.check_version(version)
    return actor


async def register_actor(db: Executor, principal: Principal, *, values: dict[str, Any]) -> Actor:
    """The new actor, its history entry, its screening request and its event, written in one statement: on a
    DbStatement connection, a transaction of its own."""
    now = utcnow()
    actor, event = Actor.register(values, org_id=principal.org_id, by=principal.user_id, now=now)
    entry = history.entry(
        org_id=actor.org_id,
        user_id=principal.user_id,
        entity_type="actor",
        entity_id=actor.id,
        action="registered",
        changes=created(actor.editable()),
        actor_id=actor.id,
    )
    request = ScreeningRequest.of_subject(
        org_id=actor.org_id, actor_id=actor.id, subject_type="actor", subject_id=actor.id, now=now
    )
    # A registration number taken already: 409 duplicate_registration.
    await announce.register_actor(
        db, actor, event, beside=[history_repository.entry_row(entry), screening_repository.request_row(request)]
    )
    return actor


async def update_actor(
    db: AsyncSession, principal: Principal, actor_id: UUID, *, changes: dict[str, Any], version: int
) -> Actor:
    """Change the fields sent; nothing changes (not even the version) when they hold what is stored."""
    actor = await actor_for_change(db, principal, actor_id, version=version)
    before = actor.audited()
    events = actor.update(changes, by=principal.user_id, now=utcnow())
    if not events:
        return actor
    await announce.save_actor(db, actor, *events)
    # A material change to an approved file also shows here why its review became due: review_reason,
    # review_requested_fields and next_review_date, each before and after.
    record_change(db, principal, actor, action="updated", changes=diff(before, actor.audited()))
    if set(SCREENED_FIELDS) & set(changes_of(events)):
        await screening.request_screening(
            db, org_id=actor.org_id, actor_id=actor.id, subject_type="actor", subject_id=actor.id
        )
    return actor


async def get_actor(db: Executor, principal: Principal, actor_id: UUID) -> Any:
    """The row of an actor the caller's organisation owns or was shared with (a read answers straight from it:
    ActorRead.from_row)."""
    return await repository.get_visible_actor_row(db, actor_id, org_id=principal.org_id)


async def list_actors(
    db: Executor,
    principal: Principal,
    *,
    page: Pagination,
    kyc_status: str | None = None,
    actor_type: str | None = None,
    country: str | None = None,
    region: str | None = None,
    risk_level: str | None = None,
    mineral: str | None = None,
    name: str | None = None,
) -> tuple[list[Any], int]:
    """The rows of the actors the caller's organisation owns or was shared with, by name; `name` is part of the
    legal name or an alias. Rows, not domain objects: a list answers straight from them (ActorRead.page_of_rows);
    building an Actor, then its response, per row was a tenth of a list's CPU."""
    where = ActorFilter(
        kyc_status=kyc_status,
        actor_type=actor_type,
        country=country.upper() if country else None,
        region=region.upper() if region else None,
        risk_level=risk_level,
        mineral=mineral,
        name=name,
    )
    return await repository.list_actor_rows(db, org_id=principal.org_id, where=where, page=page)


def changes_of(events: list[KycEvent]) -> list[str]:
    """The fields the ActorUpdated among `events` names."""
    return next((e.changed_fields for e in events if isinstance(e, ActorUpdated)), [])


def record_change(
    db: AsyncSession, principal: Principal, actor: Actor, *, action: str, changes: dict[str, Any]
) -> None:
    """The actor's own history entry (its parts file theirs under it too)."""
    history.record(
        db,
        org_id=actor.org_id,
        user_id=principal.user_id,
        entity_type="actor",
        entity_id=actor.id,
        action=action,
        changes=changes,
        actor_id=actor.id,
    )

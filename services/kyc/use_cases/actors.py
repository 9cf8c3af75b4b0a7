"""Registering and editing actors: each change is checked, recorded, announced and screened in one transaction."""
from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.db import utcnow
from libs.common.errors import Conflict
from libs.common.events.kyc import ActorRegistered, ActorUpdated
from services.kyc.domain import actors, workflow
from services.kyc.domain.history import created, diff, snapshot
from services.kyc.repository import actors as repository
from services.kyc.tables.register import ActorRow
from services.kyc.use_cases import announce, history, reviews, screening


async def register_actor(db: AsyncSession, values: dict[str, Any], *, principal: Principal) -> ActorRow:
    clean = actors.normalise(values)
    await _check_registration_free(db, clean, org_id=principal.org_id)
    now = utcnow()
    row = ActorRow(id=uuid4(), org_id=principal.org_id, kyc_status=workflow.Status.DRAFT,
                   created_by=principal.user_id, created_at=now, updated_at=now, version=1,
                   **{field: clean[field] for field in actors.EDITABLE_FIELDS})
    await repository.save_actor(db, row)
    history.record(db, org_id=row.org_id, user_id=principal.user_id, entity_type="actor", entity_id=row.id,
                   action="registered", changes=created(snapshot(row, actors.EDITABLE_FIELDS)), actor_id=row.id)
    await announce.actor_event(db, row, ActorRegistered)
    await screening.request_screening(db, org_id=row.org_id, actor_id=row.id, subject_type="actor",
                                      subject_id=row.id)
    return row


async def update_actor(db: AsyncSession, actor_id: UUID, changes: dict[str, Any], *, version: int,
                       principal: Principal) -> ActorRow:
    """Change the fields sent; nothing changes (not even the version) when they hold what is stored."""
    row = await repository.get_actor(db, actor_id, org_id=principal.org_id, for_update=True)
    check_version(row, version)
    workflow.check_editable(row.kyc_status)
    before = snapshot(row, actors.EDITABLE_FIELDS)
    clean = actors.normalise({**before, **changes})
    changed = diff(before, {field: clean[field] for field in actors.EDITABLE_FIELDS})
    if not changed:
        return row
    if {"registration_number", "country"} & changed.keys():
        await _check_registration_free(db, clean, org_id=row.org_id, exclude_id=row.id)
    for field in changed:
        setattr(row, field, clean[field])
    if {*actors.RISK_FIELDS, *actors.SCREENED_FIELDS} & changed.keys():
        changed.update(reviews.bring_review_forward(row, utcnow().date()))
    touch(row)
    await repository.save_actor(db, row)
    history.record(db, org_id=row.org_id, user_id=principal.user_id, entity_type="actor", entity_id=row.id,
                   action="updated", changes=changed, actor_id=row.id)
    await announce.actor_event(db, row, ActorUpdated, changed_fields=sorted(changed), updated_by=principal.user_id)
    if set(actors.SCREENED_FIELDS) & changed.keys():
        await screening.request_screening(db, org_id=row.org_id, actor_id=row.id, subject_type="actor",
                                          subject_id=row.id)
    return row


def check_version(row: ActorRow, version: int | None) -> None:
    if version is not None and version != row.version:
        raise Conflict(f"actor {row.id} is at version {row.version}, not {version}; reload and retry",
                       code="stale_version", current_version=row.version)


def touch(row: ActorRow) -> None:
    row.version += 1
    row.updated_at = utcnow()


async def _check_registration_free(db: AsyncSession, clean: dict[str, Any], *, org_id: str,
                                   exclude_id: UUID | None = None) -> None:
    number = clean.get("registration_number")
    if number and await repository.find_by_registration(db, org_id=org_id, country=clean["country"],
                                                        registration_number=number, exclude_id=exclude_id):
        raise Conflict(f"registration number {number} is already registered in {clean['country']}",
                       code="duplicate_registration")

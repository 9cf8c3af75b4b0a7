"""One async function per thing a user, a whistle-blower or another service can ask of the incidents service."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import outbox
from libs.common.auth import Principal
from libs.common.db import utcnow
from libs.common.errors import Invalid
from libs.common.events.base import Event
from libs.common.storage import ObjectStore, check_content
from services.incidents import domain, repository
from services.incidents.domain import Action, Category, Incident


def _reference(now: datetime) -> str:
    return f"INC-{now.year}-{secrets.token_hex(4).upper()}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _publish(db: AsyncSession, incident: Incident, event: Event | None) -> None:
    if event is not None:
        outbox.add(db, event, key=incident.id)


async def report_incident(
    db: AsyncSession,
    *,
    org_id: str,
    by: str,
    source: str,
    category: str,
    due_days: dict[int, int],
    now: datetime | None = None,
    **facts: Any,
) -> Incident:
    now = now or utcnow()
    taxonomy = await repository.taxonomy(db, org_id)
    incident, event = Incident.report(
        org_id=org_id,
        reference=_reference(now),
        category=taxonomy.category(category),
        by=by,
        now=now,
        due_days=due_days,
        source=source,
        **facts,
    )
    await repository.save_incident(db, incident, new=True)
    _publish(db, incident, event)
    return incident


async def report_anonymously(
    db: AsyncSession,
    *,
    org_id: str,
    category: str,
    due_days: dict[int, int],
    name: str | None,
    contact: str | None,
    **facts: Any,
) -> tuple[Incident, str]:
    """A whistle-blower's report: the follow-up token is handed back once and kept only as its sha256."""
    incident = await report_incident(
        db, org_id=org_id, by="whistleblower", source="whistleblower", category=category, due_days=due_days, **facts
    )
    token = secrets.token_urlsafe(32)
    await repository.save_reporter(db, incident.id, token_sha256=token_hash(token), name=name, contact=contact)
    return incident, token


async def follow_up_status(db: Any, token: str) -> Incident:
    org_id, incident_id = await repository.incident_of_token(db, token_hash(token))
    return await repository.get_incident(db, org_id, incident_id)


async def add_anonymous_information(db: AsyncSession, token: str, *, text: str) -> Incident:
    org_id, incident_id = await repository.incident_of_token(db, token_hash(token))
    incident = await repository.get_incident(db, org_id, incident_id, lock=True)
    # Timeline only (the incident team reads it); nothing the reporter writes goes into an event.
    incident.changes.append(domain.Change("reporter_information", "whistleblower", utcnow(), {"text": text}))
    await repository.save_incident(db, incident)
    return incident


async def change(db: AsyncSession, principal: Principal, incident_id: UUID, action: str, **args: Any) -> Incident:
    """One lifecycle step (`triage`, `verify`, `dismiss`, `resolve`, `close`, `reopen`, `escalate`, `update_facts`,
    `update_action`) on the incident, published in the same transaction."""
    incident = await repository.get_incident(db, principal.org_id, incident_id, lock=True)
    event = getattr(incident, action)(by=principal.user_id, now=utcnow(), **args)
    await repository.save_incident(db, incident)
    _publish(db, incident, event)
    return incident


async def plan_mitigation(
    db: AsyncSession, principal: Principal, incident_id: UUID, actions: list[dict[str, Any]]
) -> Incident:
    planned = [Action(id=uuid4(), **a) for a in actions]
    incident = await repository.get_incident(db, principal.org_id, incident_id, lock=True)
    event = incident.plan_mitigation(planned, by=principal.user_id, now=utcnow())
    await repository.save_incident(db, incident)
    _publish(db, incident, event)
    return incident


async def comment(db: AsyncSession, principal: Principal, incident_id: UUID, text: str) -> None:
    incident = await repository.get_incident(db, principal.org_id, incident_id, lock=True)
    incident.comment(text, by=principal.user_id, now=utcnow())
    await repository.save_incident(db, incident)


async def add_category(db: AsyncSession, principal: Principal, category: Category) -> Category:
    taxonomy = await repository.taxonomy(db, principal.org_id)
    if category.group not in taxonomy.groups:
        raise Invalid(f"unknown category group {category.group!r}", code="unknown_category_group", field="group")
    await repository.save_category(db, principal.org_id, category)
    return category


async def open_or_update_automatic(
    db: AsyncSession,
    *,
    org_id: str,
    cause: str,
    category: str,
    title: str,
    summary: str,
    due_days: dict[int, int],
    links: dict[str, list[UUID]],
    **facts: Any,
) -> Incident:
    """Exactly one incident per cause and organisation: the first firing opens it, later ones update it."""
    new_id = uuid4()
    existing = await repository.claim_cause(db, org_id, cause, new_id)
    now = utcnow()
    if existing is None:
        taxonomy = await repository.taxonomy(db, org_id)
        incident, event = Incident.report(
            org_id=org_id,
            reference=_reference(now),
            category=taxonomy.category(category),
            by="system",
            now=now,
            due_days=due_days,
            id=new_id,
            source="automatic",
            title=title,
            summary=summary,
            cause=cause,
            **links,
            **facts,
        )
        await repository.save_incident(db, incident, new=True)
        _publish(db, incident, event)
        return incident
    incident = await repository.get_incident(db, org_id, existing, lock=True)
    update = incident.cause_fired_again(now=now, detail=summary, links=links)
    await repository.save_incident(db, incident)
    _publish(db, incident, update)
    return incident


async def notice_overdue(db: AsyncSession, *, now: datetime, max_open: timedelta) -> int:
    """IncidentOverdue once per missed deadline (the notice table's constraint makes it once)."""
    published = 0
    for incident in await repository.list_unfinished(db):
        for missed in domain.overdue(incident, now=now, max_open=max_open):
            if await repository.record_notice(db, incident.id, missed.key, now=now):
                locked = await repository.get_incident(db, incident.org_id, incident.id, lock=True)
                event = locked.overdue_notice(missed, now=now)
                await repository.save_incident(db, locked)
                _publish(db, locked, event)
                published += 1
    return published


async def attach_evidence(
    db: AsyncSession,
    principal: Principal,
    incident_id: UUID,
    *,
    data: bytes,
    filename: str,
    content_type: str,
    store: ObjectStore,
    max_bytes: int,
) -> dict[str, Any]:
    """Evidence into the object store (content checked first, key by sha256), its row and a timeline entry."""
    incident = await repository.get_incident(db, principal.org_id, incident_id, lock=True)
    check_content(data, content_type, max_bytes=max_bytes)
    stored = await store.put(data, content_type)
    values = {
        "id": uuid4(),
        "incident_id": incident.id,
        "org_id": principal.org_id,
        "filename": filename[:255] or "file",
        "content_type": stored.content_type,
        "size": stored.size,
        "sha256": stored.sha256,
        "object_key": stored.key,
        "uploaded_by": principal.user_id,
        "uploaded_at": utcnow(),
    }
    await repository.save_attachment(db, values)
    incident.changes.append(
        domain.Change("attachment_added", principal.user_id, values["uploaded_at"], {"sha256": stored.sha256})
    )
    await repository.save_incident(db, incident)
    return values

"""Every query of the incidents service; turns rows into domain objects and back."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from libs.common.db import dialect_of, insert
from libs.common.errors import NotFound
from libs.common.pagination import Pagination, fetch_page
from services.incidents import domain
from services.incidents.domain import Action, Category, Incident, Status, Taxonomy
from services.incidents.tables import (
    AttachmentRow,
    CategoryRow,
    IncidentCauseRow,
    IncidentRow,
    KnownSiteRow,
    OverdueNoticeRow,
    ReporterRow,
    TimelineEntryRow,
)

Db = AsyncSession | AsyncConnection
incident_t = IncidentRow.__table__
cause_t = IncidentCauseRow.__table__
timeline_t = TimelineEntryRow.__table__
reporter_t = ReporterRow.__table__
category_t = CategoryRow.__table__
site_t = KnownSiteRow.__table__
notice_t = OverdueNoticeRow.__table__
attachment_t = AttachmentRow.__table__
SHIPPED = domain.shipped_taxonomy()


def _to_domain(row: Any) -> Incident:
    category = Category(row.category, row.category_group, row.category_name, row.category_level, row.category_response)
    actions = [
        Action(UUID(a["id"]), a["title"], a["owner"], date.fromisoformat(a["due_date"]), a["status"], a["notes"])
        for a in row.actions
    ]
    return Incident(
        id=row.id,
        org_id=row.org_id,
        reference=row.reference,
        category=category,
        level=row.level,
        required_response=row.required_response,
        title=row.title,
        summary=row.summary,
        source=row.source,
        reported_at=row.reported_at,
        updated_at=row.updated_at,
        verification_due_date=row.verification_due_date,
        status=Status(row.status),
        version=row.version,
        cause=row.cause,
        country=row.country,
        region=row.region,
        mineral=row.mineral,
        occurred_on=row.occurred_on,
        place=row.place,
        actor_ids=[UUID(i) for i in row.actor_ids],
        site_ids=[UUID(i) for i in row.site_ids],
        lot_ids=[UUID(i) for i in row.lot_ids],
        resolution_reason=row.resolution_reason,
        outcome=row.outcome,
        actions=actions,
    )


def _values(incident: Incident) -> dict[str, Any]:
    c = incident.category
    return {
        "id": incident.id,
        "org_id": incident.org_id,
        "reference": incident.reference,
        "category": c.code,
        "category_group": c.group,
        "category_name": c.name,
        "category_level": c.level,
        "category_response": c.response,
        "level": incident.level,
        "required_response": incident.required_response,
        "status": incident.status.value,
        "title": incident.title,
        "summary": incident.summary,
        "source": incident.source,
        "cause": incident.cause,
        "country": incident.country,
        "region": incident.region,
        "mineral": incident.mineral,
        "occurred_on": incident.occurred_on,
        "place": incident.place,
        "actor_ids": [str(i) for i in incident.actor_ids],
        "site_ids": [str(i) for i in incident.site_ids],
        "lot_ids": [str(i) for i in incident.lot_ids],
        "resolution_reason": incident.resolution_reason,
        "outcome": incident.outcome,
        "actions": [
            {
                "id": str(a.id),
                "title": a.title,
                "owner": a.owner,
                "due_date": a.due_date.isoformat(),
                "status": a.status,
                "notes": a.notes,
            }
            for a in incident.actions
        ],
        "verification_due_date": incident.verification_due_date,
        "reported_at": incident.reported_at,
        "updated_at": incident.updated_at,
        "version": incident.version,
    }


async def get_incident(db: Db, org_id: str, incident_id: UUID, *, lock: bool = False) -> Incident:
    query = sa.select(incident_t).where(incident_t.c.id == incident_id, incident_t.c.org_id == org_id)
    row = (await db.execute(query.with_for_update() if lock else query)).first()
    if row is None:
        raise NotFound(f"no incident {incident_id}")
    return _to_domain(row)


async def save_incident(db: AsyncSession, incident: Incident, *, new: bool = False) -> None:
    values = _values(incident)
    if new:
        await db.execute(sa.insert(incident_t).values(values))
    else:
        await db.execute(sa.update(incident_t).where(incident_t.c.id == incident.id).values(values))
    if incident.changes:
        await db.execute(
            sa.insert(timeline_t),
            [
                {"incident_id": incident.id, "kind": c.kind, "by": c.by, "at": c.at, "detail": c.detail}
                for c in incident.changes
            ],
        )
        incident.changes.clear()


async def list_incidents(
    db: Db, org_id: str, page: Pagination, *, status: str | None = None, category: str | None = None
) -> tuple[list[Incident], int]:
    query = sa.select(incident_t).where(incident_t.c.org_id == org_id)
    if status:
        query = query.where(incident_t.c.status == status)
    if category:
        query = query.where(incident_t.c.category == category)
    rows, total = await fetch_page(db, query.order_by(incident_t.c.reported_at.desc(), incident_t.c.id), page)
    return [_to_domain(r) for r in rows], total


async def list_unfinished(db: Db, *, org_id: str | None = None) -> list[Incident]:
    finished = [s.value for s in domain.FINISHED]
    query = sa.select(incident_t).where(incident_t.c.status.not_in(finished))
    if org_id is not None:
        query = query.where(incident_t.c.org_id == org_id)
    return [_to_domain(r) for r in (await db.execute(query.order_by(incident_t.c.reported_at))).all()]


async def list_timeline(db: Db, incident_id: UUID) -> list[Any]:
    query = sa.select(timeline_t).where(timeline_t.c.incident_id == incident_id).order_by(timeline_t.c.id)
    return list((await db.execute(query)).all())


# --- taxonomy --------------------------------------------------------------------------------------------------


async def taxonomy(db: Db, org_id: str) -> Taxonomy:
    rows = (await db.execute(sa.select(category_t).where(category_t.c.org_id == org_id))).all()
    return SHIPPED.extended([Category(r.code, r.group_code, r.name, r.level, r.response) for r in rows])


async def save_category(db: AsyncSession, org_id: str, category: Category) -> None:
    await db.execute(
        sa.insert(category_t).values(
            org_id=org_id,
            code=category.code,
            group_code=category.group,
            name=category.name,
            level=category.level,
            response=category.response,
        )
    )


# --- automatic incidents ---------------------------------------------------------------------------------------


async def claim_cause(db: AsyncSession, org_id: str, cause: str, incident_id: UUID) -> UUID | None:
    """Claims `cause` for `incident_id`; when another incident already holds it, that incident's id. Two workers
    claiming at once: the second waits on the unique index and then finds the first's."""
    statement = (
        insert(dialect_of(db), cause_t)
        .values(org_id=org_id, cause=cause, incident_id=incident_id)
        .on_conflict_do_nothing(index_elements=["org_id", "cause"])
        .returning(cause_t.c.incident_id)
    )
    if (await db.execute(statement)).first() is not None:
        return None
    query = sa.select(cause_t.c.incident_id).where(cause_t.c.org_id == org_id, cause_t.c.cause == cause)
    return UUID(str((await db.execute(query)).scalar_one()))


async def save_site(
    db: AsyncSession, *, site_id: UUID, org_id: str, operator_actor_id: UUID | None, status: str, version: int
) -> None:
    statement = insert(dialect_of(db), site_t).values(
        site_id=site_id, org_id=org_id, operator_actor_id=operator_actor_id, status=status, version=version
    )
    await db.execute(
        statement.on_conflict_do_update(
            index_elements=["site_id"],
            set_={
                "operator_actor_id": statement.excluded.operator_actor_id,
                "status": statement.excluded.status,
                "version": statement.excluded.version,
            },
            where=site_t.c.version < statement.excluded.version,
        )
    )


async def active_sites_of(db: Db, org_id: str, actor_id: UUID) -> list[UUID]:
    query = sa.select(site_t.c.site_id).where(
        site_t.c.org_id == org_id, site_t.c.operator_actor_id == actor_id, site_t.c.status != "red"
    )
    return [UUID(str(i)) for i in (await db.execute(query)).scalars()]


# --- whistle-blowers -------------------------------------------------------------------------------------------


async def save_reporter(
    db: AsyncSession, incident_id: UUID, *, token_sha256: str, name: str | None, contact: str | None
) -> None:
    await db.execute(
        sa.insert(reporter_t).values(incident_id=incident_id, token_sha256=token_sha256, name=name, contact=contact)
    )


async def incident_of_token(db: Db, token_sha256: str) -> tuple[str, UUID]:
    query = (
        sa.select(incident_t.c.org_id, incident_t.c.id)
        .join(reporter_t, reporter_t.c.incident_id == incident_t.c.id)
        .where(reporter_t.c.token_sha256 == token_sha256)
    )
    row = (await db.execute(query)).first()
    if row is None:
        raise NotFound("no report with this follow-up token", code="unknown_token")
    return row.org_id, row.id


async def find_reporter(db: Db, incident_id: UUID) -> Any | None:
    query = sa.select(reporter_t.c.name, reporter_t.c.contact).where(reporter_t.c.incident_id == incident_id)
    return (await db.execute(query)).first()


# --- deadlines -------------------------------------------------------------------------------------------------


async def record_notice(db: AsyncSession, incident_id: UUID, deadline: str, *, now: datetime) -> bool:
    """True the first time `deadline` of `incident_id` is noticed."""
    statement = (
        insert(dialect_of(db), notice_t)
        .values(incident_id=incident_id, deadline=deadline, noticed_at=now)
        .on_conflict_do_nothing(index_elements=["incident_id", "deadline"])
        .returning(notice_t.c.id)
    )
    return (await db.execute(statement)).first() is not None


# --- attachments -----------------------------------------------------------------------------------------------


async def save_attachment(db: AsyncSession, values: dict[str, Any]) -> None:
    await db.execute(sa.insert(attachment_t).values(values))


async def list_attachments(db: Db, incident_id: UUID) -> list[Any]:
    query = sa.select(attachment_t).where(attachment_t.c.incident_id == incident_id)
    return list((await db.execute(query.order_by(attachment_t.c.uploaded_at))).all())


async def get_attachment(db: Db, incident_id: UUID, attachment_id: UUID) -> Any:
    query = sa.select(attachment_t).where(attachment_t.c.incident_id == incident_id, attachment_t.c.id == attachment_id)
    row = (await db.execute(query)).first()
    if row is None:
        raise NotFound(f"no attachment {attachment_id}")
    return row

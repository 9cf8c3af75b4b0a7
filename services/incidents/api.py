"""HTTP routes of the incidents service: intake (staff, monitors, partners, whistle-blowers), lifecycle, taxonomy."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Request, Response

from libs.common import gate
from libs.common.auth import OrgKind, Principal
from libs.common.db import DbRead, DbTransaction, utcnow
from libs.common.errors import Conflict, NotFound
from libs.common.pagination import PageQuery
from libs.common.ratelimit import RateLimiter, client_address
from libs.common.storage import ObjectStore
from services.incidents import domain, repository, use_cases
from services.incidents.access import FIELD_AGENT, PARTNER, Admin, IncidentTeam, Manager, Reader, Reporter
from services.incidents.domain import Category, Incident
from services.incidents.schemas import (
    AddCategory,
    AddComment,
    AddInformation,
    AnonymousReceipt,
    AnonymousStatus,
    AttachmentRead,
    CategoryCode,
    CategoryRead,
    Close,
    Dismiss,
    Escalate,
    FollowUpToken,
    IncidentPage,
    IncidentRead,
    OverdueRead,
    PlanMitigation,
    Reopen,
    ReportAnonymously,
    ReporterRead,
    ReportIncident,
    TaxonomyRead,
    TimelineEntryRead,
    UpdateAction,
    UpdateIncident,
    UploadAttachment,
)
from services.incidents.settings import IncidentsSettings

router = APIRouter(tags=["incidents"])
public = APIRouter(prefix="/public", tags=["whistle-blowers"])
PUBLIC_PREFIX = "/public/"
NOT_FOUND = {404: {"description": "no such incident visible to the caller's organisation"}}
TRANSITION = {**NOT_FOUND, 409: {"description": "cannot_<action>: not allowed from the incident's status"}}


async def _settings(request: Request) -> IncidentsSettings:
    return request.app.state.settings


Settings = Annotated[IncidentsSettings, Depends(_settings)]


async def _rate_limited(request: Request) -> None:
    limiter: RateLimiter = request.app.state.limiter
    limiter.check(client_address(request))


RateLimited = Depends(_rate_limited)


def _read(incident: Incident, settings: IncidentsSettings) -> IncidentRead:
    too_long = utcnow() - incident.reported_at > timedelta(days=settings.incidents_max_open_days)
    return IncidentRead.from_domain(incident, open_too_long=too_long and incident.status not in domain.FINISHED)


def _source(principal: Principal) -> str:
    """A partner system's report is a partner's whatever roles its token carries (README: partners and incidents)."""
    if PARTNER in principal.roles or principal.org_kind is OrgKind.PARTNER:
        return "partner"
    return "monitor" if principal.roles == {FIELD_AGENT} else "staff"


@router.post(
    "/incidents", status_code=201, summary="Report an incident", responses={422: {"description": "unknown_category"}}
)
async def report(body: ReportIncident, principal: Reporter, db: DbTransaction, settings: Settings) -> IncidentRead:
    incident = await use_cases.report_incident(
        db,
        org_id=principal.org_id,
        by=principal.user_id,
        source=_source(principal),
        due_days=settings.verification_days(),
        **body.model_dump(),
    )
    return _read(incident, settings)


@router.get("/incidents", summary="Incidents of the caller's organisation")
async def list_incidents(
    principal: Reader,
    db: DbRead,
    page: PageQuery,
    settings: Settings,
    status: domain.Status | None = None,
    category: CategoryCode | None = None,  # type: ignore[valid-type]
) -> IncidentPage:
    items, total = await repository.list_incidents(db, principal.org_id, page, status=status, category=category)
    return IncidentPage(items=[_read(i, settings) for i in items], total=total, limit=page.limit, offset=page.offset)


@router.get("/deadlines/overdue", summary="Missed deadlines: verification, mitigation actions, maximum time open")
async def list_overdue(principal: Reader, db: DbRead, settings: Settings) -> list[OverdueRead]:
    now, max_open = utcnow(), timedelta(days=settings.incidents_max_open_days)
    return [
        OverdueRead(incident_id=i.id, reference=i.reference, overdue=o.kind, due_date=o.due_date, action_id=o.action_id)
        for i in await repository.list_unfinished(db, org_id=principal.org_id)
        for o in domain.overdue(i, now=now, max_open=max_open)
    ]


@router.get("/incidents/{incident_id}", summary="One incident", responses=NOT_FOUND)
async def get_incident(incident_id: UUID, principal: Reader, db: DbRead, settings: Settings) -> IncidentRead:
    return _read(await repository.get_incident(db, principal.org_id, incident_id), settings)


@router.get("/incidents/{incident_id}/timeline", summary="Every change, with who and when", responses=NOT_FOUND)
async def timeline(incident_id: UUID, principal: Manager, db: DbRead) -> list[TimelineEntryRead]:
    await repository.get_incident(db, principal.org_id, incident_id)
    return [
        TimelineEntryRead(kind=r.kind, by=r.by, at=r.at, detail=r.detail)
        for r in await repository.list_timeline(db, incident_id)
    ]


@router.get(
    "/incidents/{incident_id}/reporter",
    summary="A whistle-blower's identity (incident team only)",
    responses={404: {"description": "no such incident, or no reporter identity"}},
)
async def reporter(incident_id: UUID, principal: IncidentTeam, db: DbRead) -> ReporterRead:
    await repository.get_incident(db, principal.org_id, incident_id)
    found = await repository.find_reporter(db, incident_id)
    if found is None:
        raise NotFound("this incident was not reported anonymously", code="no_reporter")
    return ReporterRead(name=found.name, contact=found.contact)


@router.patch("/incidents/{incident_id}", summary="Add facts or links", responses=TRANSITION)
async def update(
    incident_id: UUID, body: UpdateIncident, principal: Manager, db: DbTransaction, settings: Settings
) -> IncidentRead:
    facts = body.model_dump(exclude_none=True)
    return _read(await use_cases.change(db, principal, incident_id, "update_facts", **facts), settings)


async def _step(
    db: DbTransaction, principal: Manager, incident_id: UUID, action: str, settings: IncidentsSettings, **args: object
) -> IncidentRead:
    return _read(await use_cases.change(db, principal, incident_id, action, **args), settings)


@router.post("/incidents/{incident_id}/triage", summary="Start triage", responses=TRANSITION)
async def triage(incident_id: UUID, principal: Manager, db: DbTransaction, settings: Settings) -> IncidentRead:
    return await _step(db, principal, incident_id, "triage", settings)


@router.post("/incidents/{incident_id}/verify", summary="Verified after triage", responses=TRANSITION)
async def verify(incident_id: UUID, principal: Manager, db: DbTransaction, settings: Settings) -> IncidentRead:
    return await _step(db, principal, incident_id, "verify", settings)


@router.post(
    "/incidents/{incident_id}/dismiss",
    summary="Dismiss with a coded reason",
    responses={**TRANSITION, 422: {"description": "unknown_resolution_reason"}},
)
async def dismiss(
    incident_id: UUID, body: Dismiss, principal: Manager, db: DbTransaction, settings: Settings
) -> IncidentRead:
    return await _step(db, principal, incident_id, "dismiss", settings, reason=body.reason)


@router.post("/incidents/{incident_id}/mitigation", summary="Plan mitigation actions", responses=TRANSITION)
async def plan(
    incident_id: UUID, body: PlanMitigation, principal: Manager, db: DbTransaction, settings: Settings
) -> IncidentRead:
    actions = [a.model_dump() for a in body.actions]
    return _read(await use_cases.plan_mitigation(db, principal, incident_id, actions), settings)


@router.patch(
    "/incidents/{incident_id}/actions/{action_id}",
    summary="Progress of a mitigation action",
    responses={**TRANSITION, 404: {"description": "no such incident, or action_not_found: no such action in its plan"}},
)
async def update_action(
    incident_id: UUID, action_id: UUID, body: UpdateAction, principal: Manager, db: DbTransaction, settings: Settings
) -> IncidentRead:
    return await _step(
        db, principal, incident_id, "update_action", settings, action_id=action_id, status=body.status, note=body.note
    )


@router.post("/incidents/{incident_id}/resolve", summary="Resolved", responses=TRANSITION)
async def resolve(incident_id: UUID, principal: Manager, db: DbTransaction, settings: Settings) -> IncidentRead:
    return await _step(db, principal, incident_id, "resolve", settings)


@router.post("/incidents/{incident_id}/close", summary="Close with its outcome", responses=TRANSITION)
async def close(
    incident_id: UUID, body: Close, principal: Manager, db: DbTransaction, settings: Settings
) -> IncidentRead:
    return await _step(db, principal, incident_id, "close", settings, outcome=body.outcome)


@router.post("/incidents/{incident_id}/reopen", summary="Reopen", responses=TRANSITION)
async def reopen(
    incident_id: UUID, body: Reopen, principal: Manager, db: DbTransaction, settings: Settings
) -> IncidentRead:
    return await _step(db, principal, incident_id, "reopen", settings, reason=body.reason)


@router.post(
    "/incidents/{incident_id}/escalate",
    summary="Raise the level (and the required response)",
    responses={**TRANSITION, 422: {"description": "level_not_raised"}},
)
async def escalate(
    incident_id: UUID, body: Escalate, principal: Manager, db: DbTransaction, settings: Settings
) -> IncidentRead:
    return await _step(db, principal, incident_id, "escalate", settings, level=body.level, reason=body.reason)


@router.post("/incidents/{incident_id}/comments", status_code=204, summary="Comment", responses=NOT_FOUND)
async def add_comment(incident_id: UUID, body: AddComment, principal: Reporter, db: DbTransaction) -> None:
    await use_cases.comment(db, principal, incident_id, body.text)


@router.get("/taxonomy", summary="Category groups and categories: shipped ones and the organisation's own")
async def get_taxonomy(principal: Reporter, db: DbRead) -> TaxonomyRead:
    taxonomy = await repository.taxonomy(db, principal.org_id)
    return TaxonomyRead(
        groups=taxonomy.groups, categories=[CategoryRead(**c.__dict__) for c in taxonomy.categories.values()]
    )


@router.post(
    "/taxonomy/categories",
    status_code=201,
    summary="Add a category for the organisation",
    responses={409: {"description": "category_exists"}, 422: {"description": "unknown_category_group"}},
)
async def add_category(body: AddCategory, principal: Admin, db: DbTransaction) -> CategoryRead:
    if body.code in repository.SHIPPED.categories:
        raise Conflict(f"category {body.code} is shipped", code="category_exists")
    category = await use_cases.add_category(
        db, principal, Category(body.code, body.group, body.name, body.level, body.response)
    )
    return CategoryRead(**category.__dict__)


# --- whistle-blowers: no login, rate-limited; the address is neither stored nor logged ------------------------


@public.post(
    "/reports",
    status_code=201,
    dependencies=[RateLimited],
    summary="Report anonymously; keep the follow-up token",
    responses={422: {"description": "unknown_category"}, 429: {"description": "too_many_requests"}},
)
async def report_anonymously(body: ReportAnonymously, db: DbTransaction, settings: Settings) -> AnonymousReceipt:
    facts = body.model_dump(exclude={"reporter_name", "reporter_contact"})
    incident, token = await use_cases.report_anonymously(
        db, due_days=settings.verification_days(), name=body.reporter_name, contact=body.reporter_contact, **facts
    )
    return AnonymousReceipt(reference=incident.reference, status=incident.status.value, follow_up_token=token)


@public.post(
    "/reports/status",
    dependencies=[RateLimited],
    summary="A report's status, by its follow-up token",
    responses={404: {"description": "unknown_token"}, 429: {"description": "too_many_requests"}},
)
async def report_status(body: FollowUpToken, db: DbRead) -> AnonymousStatus:
    incident = await use_cases.follow_up_status(db, body.token)
    return AnonymousStatus(reference=incident.reference, status=incident.status.value, updated_at=incident.updated_at)


@public.post(
    "/reports/information",
    dependencies=[RateLimited],
    summary="Add information to a report",
    responses={404: {"description": "unknown_token"}, 429: {"description": "too_many_requests"}},
)
async def add_information(body: AddInformation, db: DbTransaction) -> AnonymousStatus:
    incident = await use_cases.add_anonymous_information(db, body.token, text=body.text)
    return AnonymousStatus(reference=incident.reference, status=incident.status.value, updated_at=incident.updated_at)


# --- evidence ----------------------------------------------------------------------------------------------------


async def _store(request: Request) -> ObjectStore:
    return request.app.state.store


Store = Annotated[ObjectStore, Depends(_store)]


@router.post(
    "/incidents/{incident_id}/attachments",
    status_code=201,
    summary="Attach evidence (pdf, png, jpeg, tiff)",
    dependencies=[gate.body_limit(lambda settings: settings.incidents_attachment_max_bytes)],
    responses={**NOT_FOUND, 413: {"description": "file_too_large"}, 415: {"description": "content_type_mismatch"}},
)
async def attach(
    incident_id: UUID,
    principal: Reporter,
    db: DbTransaction,
    settings: Settings,
    store: Store,
    form: Annotated[UploadAttachment, Form()],
) -> AttachmentRead:
    limit = settings.incidents_attachment_max_bytes
    data = await form.file.read(limit + 1)
    values = await use_cases.attach_evidence(
        db,
        principal,
        incident_id,
        data=data,
        filename=form.file.filename or "",
        store=store,
        max_bytes=limit,
        content_type=form.file.content_type or "",
    )
    return AttachmentRead(**values)


@router.get("/incidents/{incident_id}/attachments", summary="Evidence of an incident", responses=NOT_FOUND)
async def list_attachments(incident_id: UUID, principal: Reader, db: DbRead) -> list[AttachmentRead]:
    await repository.get_incident(db, principal.org_id, incident_id)
    return [AttachmentRead(**r._mapping) for r in await repository.list_attachments(db, incident_id)]


@router.get(
    "/incidents/{incident_id}/attachments/{attachment_id}/content",
    summary="An attachment's bytes",
    response_class=Response,
    responses={**NOT_FOUND, 200: {"content": {"application/octet-stream": {}}}},
)
async def attachment_content(
    incident_id: UUID, attachment_id: UUID, principal: Reader, db: DbRead, store: Store
) -> Response:
    await repository.get_incident(db, principal.org_id, incident_id)
    row = await repository.get_attachment(db, incident_id, attachment_id)
    data = await store.get(row.object_key)
    return Response(data, media_type=row.content_type, headers={"ETag": f'"{row.sha256}"'})

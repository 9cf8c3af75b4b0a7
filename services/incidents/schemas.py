"""What the incidents HTTP API accepts and returns."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import pycountry
from fastapi import UploadFile
from pydantic import AfterValidator, BaseModel, Field, StringConstraints, model_validator

from libs.common.schemas import IsoDate, RequestBody, text
from services.incidents.domain import Incident


def _country(value: str) -> str:
    if pycountry.countries.get(alpha_2=value) is None:
        raise ValueError("not an ISO 3166-1 alpha-2 country code")
    return value


Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$"), AfterValidator(_country)]
Region = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}-[A-Z0-9]{1,3}$")]
CategoryCode = text(100)
Level = Literal[1, 2, 3]


class Facts(RequestBody):
    title: text(200) = Field(description="what happened, in a line")  # type: ignore[valid-type]
    summary: text(10000) = ""  # type: ignore[valid-type]
    country: Country | None = Field(None, description="ISO 3166-1 alpha-2")
    region: Region | None = Field(None, description="ISO 3166-2 subdivision of the country")
    mineral: text(40) | None = None  # type: ignore[valid-type]
    occurred_on: IsoDate | None = None
    place: text(300) | None = None  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _region_in_country(self) -> Facts:
        if self.region is not None:
            sub = pycountry.subdivisions.get(code=self.region)
            if sub is None or (self.country and sub.country_code != self.country):
                raise ValueError("region must be an ISO 3166-2 subdivision of the country")
        return self


class ReportIncident(Facts):
    category: CategoryCode  # type: ignore[valid-type]
    actor_ids: list[UUID] = Field(default_factory=list, max_length=100)
    site_ids: list[UUID] = Field(default_factory=list, max_length=100)
    lot_ids: list[UUID] = Field(default_factory=list, max_length=100)


class UpdateIncident(RequestBody):
    title: text(200) | None = None  # type: ignore[valid-type]
    summary: text(10000) | None = None  # type: ignore[valid-type]
    country: Country | None = None
    region: Region | None = None
    mineral: text(40) | None = None  # type: ignore[valid-type]
    occurred_on: IsoDate | None = None
    place: text(300) | None = None  # type: ignore[valid-type]
    actor_ids: list[UUID] | None = Field(None, max_length=100)
    site_ids: list[UUID] | None = Field(None, max_length=100)
    lot_ids: list[UUID] | None = Field(None, max_length=100)


class ReportAnonymously(Facts):
    org_id: text(100) = Field(description="the organisation the report is for")  # type: ignore[valid-type]
    category: CategoryCode  # type: ignore[valid-type]
    reporter_name: text(200) | None = Field(None, description="optional; only the incident team sees it")  # type: ignore[valid-type]
    reporter_contact: text(300) | None = Field(None, description="optional; only the incident team sees it")  # type: ignore[valid-type]


class FollowUpToken(RequestBody):
    token: text(100, min_length=20)  # type: ignore[valid-type]


class AddInformation(FollowUpToken):
    text: text(10000)  # type: ignore[valid-type]


class AnonymousReceipt(BaseModel):
    reference: str
    status: str
    follow_up_token: str = Field(description="shown once; keep it to add information and read the status")


class AnonymousStatus(BaseModel):
    reference: str
    status: str
    updated_at: datetime


class Dismiss(RequestBody):
    reason: text(40)  # type: ignore[valid-type]


class Close(RequestBody):
    outcome: text(2000)  # type: ignore[valid-type]


class Reopen(RequestBody):
    reason: text(2000)  # type: ignore[valid-type]


class Escalate(RequestBody):
    level: Level
    reason: text(2000)  # type: ignore[valid-type]


class PlannedAction(RequestBody):
    title: text(200)  # type: ignore[valid-type]
    owner: text(100)  # type: ignore[valid-type]
    due_date: IsoDate


class PlanMitigation(RequestBody):
    actions: list[PlannedAction] = Field(min_length=1, max_length=50)


class UpdateAction(RequestBody):
    status: Literal["open", "in_progress", "done", "cancelled"] | None = None
    note: text(2000) | None = None  # type: ignore[valid-type]


class AddComment(RequestBody):
    text: text(10000)  # type: ignore[valid-type]


class AddCategory(RequestBody):
    code: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+\.[a-z0-9_]+$", max_length=100)]
    group: text(100)  # type: ignore[valid-type]
    name: text(200)  # type: ignore[valid-type]
    level: Level
    response: Literal["disengage", "mitigate", "monitor"]


class CategoryRead(BaseModel):
    code: str
    group: str
    name: str
    level: int
    response: str


class TaxonomyRead(BaseModel):
    groups: dict[str, str]
    categories: list[CategoryRead]


class ActionRead(BaseModel):
    id: UUID
    title: str
    owner: str
    due_date: date
    status: str
    notes: list[dict[str, str]]


class IncidentRead(BaseModel):
    id: UUID
    reference: str
    category: str
    category_group: str
    level: int
    required_response: str
    status: str
    title: str
    summary: str
    source: str
    cause: str | None
    country: str | None
    region: str | None
    mineral: str | None
    occurred_on: date | None
    place: str | None
    actor_ids: list[UUID]
    site_ids: list[UUID]
    lot_ids: list[UUID]
    resolution_reason: str | None
    outcome: str | None
    verification_due_date: date
    actions: list[ActionRead]
    reported_at: datetime
    updated_at: datetime
    version: int
    open_too_long: bool = Field(description="open longer than the maximum (INCIDENTS_MAX_OPEN_DAYS)")

    @classmethod
    def from_domain(cls, incident: Incident, *, open_too_long: bool = False) -> IncidentRead:
        state = incident.state().model_dump(exclude={"incident_id", "org_id"})
        actions = [ActionRead(**a.__dict__) for a in incident.actions]
        return cls(id=incident.id, version=incident.version, actions=actions, open_too_long=open_too_long, **state)


class IncidentPage(BaseModel):
    items: list[IncidentRead]
    total: int
    limit: int
    offset: int


class TimelineEntryRead(BaseModel):
    kind: str
    by: str
    at: datetime
    detail: dict[str, Any]


class ReporterRead(BaseModel):
    name: str | None
    contact: str | None


class OverdueRead(BaseModel):
    incident_id: UUID
    reference: str
    overdue: str
    due_date: date
    action_id: UUID | None


class AttachmentRead(BaseModel):
    id: UUID
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime


class UploadAttachment(RequestBody):
    file: UploadFile = Field(description="evidence: pdf, png, jpeg or tiff")

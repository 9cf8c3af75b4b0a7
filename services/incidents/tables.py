"""SQLModel tables of the incidents service; their base has its own MetaData, so migrations see only ours."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from libs.common.db import UtcDateTime


class IncidentsTable(SQLModel):
    metadata = sa.MetaData()


def _json() -> Any:
    return sa.Column(sa.JSON, nullable=False)


def _ts() -> Any:
    return sa.Column(UtcDateTime, nullable=False)


class IncidentRow(IncidentsTable, table=True):
    """One incident; `version` is the aggregate version its events carry."""

    __tablename__ = "incident"
    __table_args__ = (sa.Index("ix_incident_org_status", "org_id", "status"),)

    id: UUID = Field(primary_key=True)
    org_id: str = Field(max_length=100)
    reference: str = Field(max_length=40, unique=True)
    category: str = Field(max_length=100)
    category_group: str = Field(max_length=100)
    category_name: str = Field(max_length=200)
    category_level: int
    category_response: str = Field(max_length=20)
    level: int
    required_response: str = Field(max_length=20)
    status: str = Field(max_length=20)
    title: str = Field(max_length=200)
    summary: str = Field(max_length=10000)
    source: str = Field(max_length=20)
    cause: str | None = Field(default=None, max_length=200)
    country: str | None = Field(default=None, max_length=2)
    region: str | None = Field(default=None, max_length=6)
    mineral: str | None = Field(default=None, max_length=40)
    occurred_on: date | None = None
    place: str | None = Field(default=None, max_length=300)
    actor_ids: list[str] = Field(default_factory=list, sa_column=_json())
    site_ids: list[str] = Field(default_factory=list, sa_column=_json())
    lot_ids: list[str] = Field(default_factory=list, sa_column=_json())
    resolution_reason: str | None = Field(default=None, max_length=40)
    outcome: str | None = Field(default=None, max_length=2000)
    actions: list[dict[str, Any]] = Field(default_factory=list, sa_column=_json())
    verification_due_date: date
    reported_at: datetime = Field(sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts())
    version: int


class IncidentCauseRow(IncidentsTable, table=True):
    """What opened an automatic incident: one incident per cause and organisation, whatever the deliveries."""

    __tablename__ = "incident_cause"
    __table_args__ = (sa.UniqueConstraint("org_id", "cause", name="uq_incident_cause"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: str = Field(max_length=100)
    cause: str = Field(max_length=200)
    incident_id: UUID  # claimed before the incident row is written (no foreign key)


class TimelineEntryRow(IncidentsTable, table=True):
    """Every change of an incident, comments too: who and when."""

    __tablename__ = "timeline_entry"
    __table_args__ = (sa.Index("ix_timeline_entry_incident", "incident_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: UUID = Field(foreign_key="incident.id")
    kind: str = Field(max_length=40)
    by: str = Field(max_length=100)
    at: datetime = Field(sa_column=_ts())
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=_json())


class ReporterRow(IncidentsTable, table=True):
    """A whistle-blower's follow-up token (its sha256 only) and, if given, identity and contact: read only by the
    organisation's incident team, never in events, logs or exports. No address is kept."""

    __tablename__ = "reporter"

    incident_id: UUID = Field(primary_key=True, foreign_key="incident.id")
    token_sha256: str = Field(max_length=64, unique=True)
    name: str | None = Field(default=None, max_length=200)
    contact: str | None = Field(default=None, max_length=300)


class CategoryRow(IncidentsTable, table=True):
    """A category an organisation added to the shipped taxonomy."""

    __tablename__ = "category"
    __table_args__ = (sa.UniqueConstraint("org_id", "code", name="uq_category_org_code"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: str = Field(max_length=100)
    code: str = Field(max_length=100)
    group_code: str = Field(max_length=100)
    name: str = Field(max_length=200)
    level: int
    response: str = Field(max_length=20)


class KnownSiteRow(IncidentsTable, table=True):
    """Our copy of KYC's mine sites (who operates them, their status), moved forward by version only."""

    __tablename__ = "known_site"

    site_id: UUID = Field(primary_key=True)
    org_id: str = Field(max_length=100)
    operator_actor_id: UUID | None = Field(default=None, index=True)
    status: str = Field(max_length=10)
    version: int


class OverdueNoticeRow(IncidentsTable, table=True):
    """One IncidentOverdue per missed deadline: the job inserts here before publishing."""

    __tablename__ = "overdue_notice"
    __table_args__ = (sa.UniqueConstraint("incident_id", "deadline", name="uq_overdue_notice"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: UUID = Field(foreign_key="incident.id")
    deadline: str = Field(max_length=100)
    noticed_at: datetime = Field(sa_column=_ts())


class AttachmentRow(IncidentsTable, table=True):
    """Evidence stored in the object store; the row holds the key and the sha256."""

    __tablename__ = "attachment"

    id: UUID = Field(primary_key=True)
    incident_id: UUID = Field(foreign_key="incident.id", index=True)
    org_id: str = Field(max_length=100)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    size: int
    sha256: str = Field(max_length=64)
    object_key: str = Field(max_length=300)
    uploaded_by: str = Field(max_length=100)
    uploaded_at: datetime = Field(sa_column=_ts())


# The webhooks package keeps its tables on our base; imported here so Alembic and the model check see them.
from services.incidents.webhooks import tables as _webhook_tables  # noqa: E402, F401

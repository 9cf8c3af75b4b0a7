"""SQLModel tables of the scoring service; their base has its own MetaData, so migrations see only ours."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from libs.common.db import UtcDateTime


class ScoringTable(SQLModel):
    metadata = sa.MetaData()


def _json(nullable: bool = False) -> Any:
    return sa.Column(sa.JSON, nullable=nullable)


def _ts(nullable: bool = False) -> Any:
    return sa.Column(UtcDateTime, nullable=nullable)


class FrameworkVersionRow(ScoringTable, table=True):
    """A framework version an organisation uploaded (shipped files are read from services/scoring/frameworks)."""

    __tablename__ = "framework_version"
    __table_args__ = (sa.UniqueConstraint("org_id", "code", "version", name="uq_framework_version"),)

    id: UUID = Field(primary_key=True)
    org_id: str = Field(max_length=100)
    code: str = Field(max_length=64)
    version: str = Field(max_length=64)
    source: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    uploaded_by: str = Field(max_length=100)
    uploaded_at: datetime = Field(sa_column=_ts())


class AssessmentRow(ScoringTable, table=True):
    """An assessment against one framework version; `answers` maps requirement id to {answer, note}."""

    __tablename__ = "assessment"
    __table_args__ = (sa.Index("ix_assessment_subject", "org_id", "subject_id", "framework_code"),)

    id: UUID = Field(primary_key=True)
    org_id: str = Field(max_length=100)
    framework_code: str = Field(max_length=64)
    framework_version: str = Field(max_length=64)
    subject_type: str = Field(max_length=20)
    subject_id: UUID
    self_assessment: bool
    assessor: str = Field(max_length=100)
    status: str = Field(max_length=20)
    answers: dict = Field(default_factory=dict, sa_column=_json())
    result: dict | None = Field(default=None, sa_column=_json(nullable=True))
    outcome: str | None = Field(default=None, max_length=64)
    reviewer: str | None = Field(default=None, max_length=100)
    review_note: str = Field(default="", max_length=2000)
    created_at: datetime = Field(sa_column=_ts())
    # The day of the assessment itself; rows from before the column have the day they were created.
    assessed_on: date | None = Field(default=None)
    submitted_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    reviewed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    version: int = Field(default=1)


class EvidenceRow(ScoringTable, table=True):
    """Evidence for an assessment (or one of its requirements): text, or a document or photo stored by sha256."""

    __tablename__ = "evidence"
    __table_args__ = (sa.Index("ix_evidence_assessment", "assessment_id"),)

    id: UUID = Field(primary_key=True)
    org_id: str = Field(max_length=100)
    assessment_id: UUID = Field(foreign_key="assessment.id")
    requirement_id: str | None = Field(default=None, max_length=64)
    kind: str = Field(max_length=20)
    text: str = Field(default="", max_length=4000)
    filename: str | None = Field(default=None, max_length=255)
    content_type: str | None = Field(default=None, max_length=100)
    size: int | None = Field(default=None)
    sha256: str | None = Field(default=None, max_length=64)
    object_key: str | None = Field(default=None, max_length=200)
    added_by: str = Field(max_length=100)
    added_at: datetime = Field(sa_column=_ts())


# The risk package keeps its tables on our base; imported here so Alembic and the model check see them.
from services.scoring.risk import tables as _risk_tables  # noqa: E402, F401

"""What the scoring HTTP API accepts and returns."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from libs.common.schemas import IsoDate, RequestBody
from services.scoring.domain.assessments import Assessment, Evidence
from services.scoring.domain.frameworks import ID, MAX_SOURCE_BYTES, Framework
from services.scoring.domain.results import Result
from services.scoring.use_cases.progress import Point


class UploadFramework(RequestBody):
    source: str = Field(min_length=1, max_length=MAX_SOURCE_BYTES, description="the framework as YAML or JSON text")


class FrameworkSummary(BaseModel):
    code: str
    version: str
    title: str
    source: Literal["file", "upload"]
    in_force: bool
    requirements: int

    @classmethod
    def of(cls, framework: Framework, source: str, in_force: bool) -> FrameworkSummary:
        return cls(
            code=framework.code,
            version=framework.version,
            title=framework.title,
            source=source,  # type: ignore[arg-type]
            in_force=in_force,
            requirements=len(framework.requirements),
        )


class FrameworkList(BaseModel):
    items: list[FrameworkSummary]


class StartAssessment(RequestBody):
    framework: str = Field(pattern=ID, max_length=64)
    framework_version: str | None = Field(None, pattern=ID, max_length=64, description="default: the one in force")
    subject_type: Literal["actor", "site", "mechanism"]
    subject_id: UUID
    self_assessment: bool = False
    assessed_on: IsoDate | None = Field(
        None, description="the day of the assessment (a visit recorded later); today by default, not in the future"
    )


class AnswerBody(RequestBody):
    answer: str = Field(pattern=ID, max_length=64)
    note: str = Field("", max_length=2000)


class RecordAnswers(RequestBody):
    version: int = Field(ge=1, le=2**31 - 1)
    answers: dict[str, AnswerBody] = Field(max_length=2000)


class Transition(RequestBody):
    version: int = Field(ge=1, le=2**31 - 1)


class Review(Transition):
    note: str = Field("", max_length=2000)


class ShortfallRead(BaseModel):
    requirement_id: str
    text: str
    answer: str | None
    gain: float


class ThresholdRead(BaseModel):
    outcome: str
    dimension: str
    group: str
    target: float
    percent: float | None
    reached: bool
    to_reach: list[ShortfallRead]


class ResultRead(BaseModel):
    overall: float | None
    percent: dict[str, dict[str, float | None]]
    outcome: str
    outcome_title: str
    missing: list[ShortfallRead]
    thresholds: list[ThresholdRead]
    gap: ThresholdRead | None
    gap_due: datetime | None
    unanswered: list[str]

    @classmethod
    def from_domain(cls, result: Result, framework: Framework) -> ResultRead:
        data: dict[str, Any] = result.as_json()
        data["gap_due"] = result.gap_due
        return cls(**data, outcome_title=framework.outcome_title(result.outcome))


class AnswerRead(BaseModel):
    answer: str
    note: str


class AssessmentRead(BaseModel):
    id: UUID
    framework: str
    framework_version: str
    subject_type: str
    subject_id: UUID
    self_assessment: bool
    label: str
    status: str
    assessor: str
    reviewer: str | None
    review_note: str
    assessed_on: date
    created_at: datetime
    submitted_at: datetime | None
    reviewed_at: datetime | None
    version: int
    answers: dict[str, AnswerRead]
    result: ResultRead = Field(description="as submitted; for a draft, what its answers add up to so far")

    @classmethod
    def from_domain(cls, assessment: Assessment, framework: Framework) -> AssessmentRead:
        at = assessment.submitted_at or assessment.created_at
        return cls(
            id=assessment.id,
            framework=assessment.framework_code,
            framework_version=assessment.framework_version,
            subject_type=assessment.subject_type,
            subject_id=assessment.subject_id,
            self_assessment=assessment.self_assessment,
            label="self-assessment" if assessment.self_assessment else "verified",
            status=assessment.status.value,
            assessor=assessment.assessor,
            reviewer=assessment.reviewer,
            review_note=assessment.review_note,
            assessed_on=assessment.assessed_on,
            created_at=assessment.created_at,
            submitted_at=assessment.submitted_at,
            reviewed_at=assessment.reviewed_at,
            version=assessment.version,
            answers={k: AnswerRead(answer=a.answer, note=a.note) for k, a in assessment.answers.items()},
            result=ResultRead.from_domain(assessment.evaluate(framework, at=at), framework),
        )


class AssessmentPage(BaseModel):
    items: list[AssessmentRead]
    total: int
    limit: int
    offset: int


class EvidenceRead(BaseModel):
    id: UUID
    assessment_id: UUID
    requirement_id: str | None
    kind: str
    text: str
    filename: str | None
    content_type: str | None
    size: int | None
    sha256: str | None
    added_by: str
    added_at: datetime

    @classmethod
    def from_domain(cls, evidence: Evidence) -> EvidenceRead:
        return cls(**{name: getattr(evidence, name) for name in cls.model_fields})


class EvidenceList(BaseModel):
    items: list[EvidenceRead]


class ChangeRead(BaseModel):
    requirement_id: str
    before: str | None
    after: str | None


class PointRead(BaseModel):
    assessment_id: UUID
    assessed_on: date
    submitted_at: datetime | None
    status: str
    label: str
    framework_version: str
    outcome: str | None
    overall: float | None
    percent: dict[str, dict[str, float | None]]
    delta: dict[str, dict[str, float | None]]
    changed: list[ChangeRead]

    @classmethod
    def from_domain(cls, point: Point) -> PointRead:
        return cls(
            assessment_id=point.assessment_id,
            assessed_on=point.assessed_on,
            submitted_at=point.submitted_at,
            status=point.status,
            label="self-assessment" if point.self_assessment else "verified",
            framework_version=point.framework_version,
            outcome=point.outcome,
            overall=point.overall,
            percent=point.percent,
            delta=point.delta,
            changed=[
                ChangeRead(requirement_id=c.requirement_id, before=c.before, after=c.after) for c in point.changed
            ],
        )


class ProgressRead(BaseModel):
    subject_id: UUID
    framework: str
    label: str
    points: list[PointRead]


class ComparisonRead(BaseModel):
    first: PointRead
    second: PointRead

"""An assessment of a producer, site or mechanism against one framework version: draft -> submitted -> reviewed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

from libs.common.errors import Conflict, Forbidden, Invalid
from libs.common.events.scoring import AssessmentReviewed, AssessmentSubmitted
from services.scoring.domain.frameworks import Framework
from services.scoring.domain.results import Result, evaluate

SUBJECT_TYPES = ("actor", "site", "mechanism")


class Status(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    REVIEWED = "reviewed"


@dataclass
class Answer:
    answer: str
    note: str = ""


@dataclass
class Assessment:
    id: UUID
    org_id: str
    framework_code: str
    framework_version: str
    subject_type: str
    subject_id: UUID
    self_assessment: bool
    assessor: str
    created_at: datetime
    assessed_on: date
    status: Status = Status.DRAFT
    answers: dict[str, Answer] = field(default_factory=dict)
    result: dict[str, Any] | None = None
    outcome: str | None = None
    reviewer: str | None = None
    review_note: str = ""
    submitted_at: datetime | None = None
    reviewed_at: datetime | None = None
    version: int = 1

    @classmethod
    def start(
        cls,
        framework: Framework,
        *,
        org_id: str,
        subject_type: str,
        subject_id: UUID,
        self_assessment: bool,
        by: str,
        now: datetime,
        assessed_on: date | None = None,
    ) -> Assessment:
        """A draft; `assessed_on` is the day of the assessment itself (a visit recorded later), today by default,
        never in the future."""
        if subject_type not in SUBJECT_TYPES:
            raise Invalid(f"subject_type is one of {', '.join(SUBJECT_TYPES)}", code="invalid_subject_type")
        if assessed_on is not None and assessed_on > now.date():
            raise Invalid(f"assessed_on {assessed_on} is in the future", code="assessed_on_in_future")
        return cls(
            id=uuid4(),
            org_id=org_id,
            framework_code=framework.code,
            framework_version=framework.version,
            subject_type=subject_type,
            subject_id=subject_id,
            self_assessment=self_assessment,
            assessor=by,
            created_at=now,
            assessed_on=assessed_on or now.date(),
        )

    def check_version(self, expected: int) -> None:
        if expected != self.version:
            raise Conflict(
                f"assessment {self.id} is at version {self.version}, not {expected}",
                code="stale_version",
                current_version=self.version,
            )

    def record_answers(self, framework: Framework, answers: dict[str, Answer]) -> None:
        self._check_draft()
        for requirement_id, answer in answers.items():
            if framework.requirement(requirement_id) is None:
                raise Invalid(
                    f"{framework.key} has no requirement {requirement_id!r}",
                    code="unknown_requirement",
                    requirement_id=requirement_id,
                )
            if answer.answer not in framework.answers:
                raise Invalid(
                    f"{answer.answer!r} is not an answer of {framework.key}; use one of {', '.join(framework.answers)}",
                    code="unknown_answer",
                    requirement_id=requirement_id,
                )
        self.answers.update(answers)
        self.version += 1

    def check_evidence_target(self, framework: Framework, requirement_id: str | None) -> None:
        if self.status is Status.REVIEWED:
            raise Conflict(f"assessment {self.id} is reviewed; its evidence is closed", code="assessment_reviewed")
        if requirement_id is not None and framework.requirement(requirement_id) is None:
            raise Invalid(f"{framework.key} has no requirement {requirement_id!r}", code="unknown_requirement")

    def evaluate(self, framework: Framework, *, at: datetime) -> Result:
        return evaluate(framework, self.plain_answers(), at=at)

    def plain_answers(self) -> dict[str, str]:
        return {k: a.answer for k, a in self.answers.items()}

    def submit(self, framework: Framework, *, now: datetime) -> AssessmentSubmitted:
        self._check_draft()
        missing = [r.id for r in framework.requirements if r.id not in self.answers]
        if missing:
            raise Invalid(
                f"{len(missing)} requirement(s) have no answer: {', '.join(missing[:10])}",
                code="missing_answers",
                requirement_ids=missing,
            )
        result = self.evaluate(framework, at=now)
        self.result, self.outcome = result.as_json(), result.outcome
        self.status, self.submitted_at = Status.SUBMITTED, now
        self.version += 1
        return AssessmentSubmitted(**self._event_fields(), outcome=self.outcome)

    def review(self, *, by: str, note: str, now: datetime) -> AssessmentReviewed:
        if self.status is not Status.SUBMITTED:
            raise Conflict(
                f"assessment {self.id} is {self.status}; only a submitted one is reviewed", code="not_submitted"
            )
        if by == self.assessor:
            raise Forbidden("the reviewer must not be the assessor", code="reviewer_is_assessor")
        self.status, self.reviewer, self.review_note, self.reviewed_at = Status.REVIEWED, by, note, now
        self.version += 1
        assert self.outcome is not None  # set on submit
        return AssessmentReviewed(**self._event_fields(), outcome=self.outcome, reviewed_at=now)

    def _check_draft(self) -> None:
        if self.status is not Status.DRAFT:
            raise Conflict(f"assessment {self.id} is {self.status}; only a draft changes", code="not_a_draft")

    def _event_fields(self) -> dict[str, Any]:
        return {
            "org_id": self.org_id,
            "assessment_id": self.id,
            "subject_type": self.subject_type,
            "subject_id": self.subject_id,
            "framework": self.framework_code,
            "framework_version": self.framework_version,
            "self_assessment": self.self_assessment,
            "assessed_on": self.assessed_on,
        }


@dataclass(frozen=True)
class Evidence:
    id: UUID
    org_id: str
    assessment_id: UUID
    requirement_id: str | None
    kind: str  # text | document | photo
    text: str
    filename: str | None
    content_type: str | None
    size: int | None
    sha256: str | None
    object_key: str | None
    added_by: str
    added_at: datetime

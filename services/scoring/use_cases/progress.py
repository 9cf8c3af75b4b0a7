"""A producer's progress: its assessments under one framework as a series, with deltas and changed requirements."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID

from libs.common.auth import Principal
from libs.common.db import Executor
from services.scoring import repository
from services.scoring.domain.assessments import Assessment
from services.scoring.domain.results import Change, changed, deltas
from services.scoring.use_cases.assessments import get_assessment


@dataclass(frozen=True)
class Point:
    assessment_id: UUID
    assessed_on: date
    submitted_at: datetime | None
    status: str
    self_assessment: bool
    framework_version: str
    outcome: str | None
    overall: float | None
    percent: dict[str, dict[str, float | None]]
    delta: dict[str, dict[str, float | None]] = field(default_factory=dict)
    changed: list[Change] = field(default_factory=list)


def _point(assessment: Assessment, before: Assessment | None) -> Point:
    result = assessment.result or {}
    percent = result.get("percent", {})
    previous = (before.result or {}).get("percent", {}) if before else None
    return Point(
        assessment_id=assessment.id,
        assessed_on=assessment.assessed_on,
        submitted_at=assessment.submitted_at,
        status=assessment.status.value,
        self_assessment=assessment.self_assessment,
        framework_version=assessment.framework_version,
        outcome=assessment.outcome,
        overall=result.get("overall"),
        percent=percent,
        delta=deltas(previous, percent) if previous is not None else {},
        changed=changed(before.plain_answers(), assessment.plain_answers()) if before else [],
    )


async def progress(
    db: Executor, principal: Principal, *, subject_id: UUID, framework: str, self_assessment: bool
) -> list[Point]:
    series = await repository.list_series(
        db, org_id=principal.org_id, subject_id=subject_id, framework=framework, self_assessment=self_assessment
    )
    return [_point(a, series[i - 1] if i else None) for i, a in enumerate(series)]


async def compare(db: Executor, principal: Principal, first_id: UUID, second_id: UUID) -> tuple[Point, Point]:
    first, _ = await get_assessment(db, principal, first_id)
    second, _ = await get_assessment(db, principal, second_id)
    return _point(first, None), _point(second, first)

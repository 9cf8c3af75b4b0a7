"""Every query of the scoring service; rows to domain objects and back, scoped to the caller's organisation."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any
from uuid import UUID, uuid4

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import Executor, upsert
from libs.common.errors import NotFound
from libs.common.pagination import Pagination, fetch_page
from services.scoring.domain.assessments import Answer, Assessment, Evidence, Status
from services.scoring.domain.frameworks import Framework, parse
from services.scoring.tables import AssessmentRow, EvidenceRow, FrameworkVersionRow

Frameworks = FrameworkVersionRow.__table__
Assessments = AssessmentRow.__table__
Evidences = EvidenceRow.__table__


async def list_uploaded_frameworks(db: Executor, *, org_id: str) -> list[Framework]:
    query = sa.select(Frameworks.c.code, Frameworks.c.version, Frameworks.c.source).where(Frameworks.c.org_id == org_id)
    rows = (await db.execute(query.order_by(Frameworks.c.uploaded_at, Frameworks.c.id))).all()
    return [_parsed(r.source, f"{r.code}-{r.version}") for r in rows]


@lru_cache(maxsize=256)
def _parsed(source: str, name: str) -> Framework:
    """Uploads are immutable and were checked when stored: each text is parsed once per process."""
    return parse(source, file=name)


async def save_framework(
    db: AsyncSession, framework: Framework, *, source: str, org_id: str, by: str, now: datetime
) -> None:
    values = {
        "id": uuid4(),
        "org_id": org_id,
        "code": framework.code,
        "version": framework.version,
        "source": source,
        "uploaded_by": by,
        "uploaded_at": now,
    }
    await db.execute(sa.insert(Frameworks).values(values))


def _assessment(row: Any) -> Assessment:
    m = row._mapping
    return Assessment(
        id=m["id"],
        org_id=m["org_id"],
        framework_code=m["framework_code"],
        framework_version=m["framework_version"],
        subject_type=m["subject_type"],
        subject_id=m["subject_id"],
        self_assessment=m["self_assessment"],
        assessor=m["assessor"],
        created_at=m["created_at"],
        assessed_on=m["assessed_on"] or m["created_at"].date(),
        status=Status(m["status"]),
        answers={k: Answer(**v) for k, v in (m["answers"] or {}).items()},
        result=m["result"],
        outcome=m["outcome"],
        reviewer=m["reviewer"],
        review_note=m["review_note"],
        submitted_at=m["submitted_at"],
        reviewed_at=m["reviewed_at"],
        version=m["version"],
    )


async def get_assessment(db: Executor, assessment_id: UUID, *, org_id: str, for_update: bool = False) -> Assessment:
    query = sa.select(Assessments).where(Assessments.c.id == assessment_id, Assessments.c.org_id == org_id)
    if for_update:
        query = query.with_for_update(key_share=False)
    row = (await db.execute(query)).one_or_none()
    if row is None:
        raise NotFound(f"assessment {assessment_id} not found", code="assessment_not_found")
    return _assessment(row)


async def save_assessment(db: AsyncSession, assessment: Assessment) -> None:
    values = {c.name: getattr(assessment, c.name) for c in Assessments.columns}
    values["status"] = assessment.status.value
    values["answers"] = {k: {"answer": a.answer, "note": a.note} for k, a in assessment.answers.items()}
    await upsert(db, Assessments, values, keys=["id"])


async def list_assessments(
    db: Executor,
    *,
    org_id: str,
    subject_id: UUID | None,
    framework: str | None,
    page: Pagination,
) -> tuple[list[Assessment], int]:
    query = sa.select(Assessments).where(Assessments.c.org_id == org_id)
    if subject_id is not None:
        query = query.where(Assessments.c.subject_id == subject_id)
    if framework is not None:
        query = query.where(Assessments.c.framework_code == framework)
    order = (Assessments.c.assessed_on, Assessments.c.created_at, Assessments.c.id)
    rows, total = await fetch_page(db, query.order_by(*order), page)
    return [_assessment(r) for r in rows], total


async def list_series(
    db: Executor, *, org_id: str, subject_id: UUID, framework: str, self_assessment: bool
) -> list[Assessment]:
    """Submitted and reviewed assessments of a subject under one framework, oldest first."""
    query = sa.select(Assessments).where(
        Assessments.c.org_id == org_id,
        Assessments.c.subject_id == subject_id,
        Assessments.c.framework_code == framework,
        Assessments.c.self_assessment == self_assessment,
        Assessments.c.status != Status.DRAFT.value,
    )
    order = (Assessments.c.assessed_on, Assessments.c.submitted_at, Assessments.c.id)
    rows = (await db.execute(query.order_by(*order))).all()
    return [_assessment(r) for r in rows]


def _evidence(row: Any) -> Evidence:
    return Evidence(**{k: v for k, v in row._mapping.items()})


async def save_evidence(db: AsyncSession, evidence: Evidence) -> None:
    await db.execute(sa.insert(Evidences).values({c.name: getattr(evidence, c.name) for c in Evidences.columns}))


async def list_evidence(db: Executor, assessment_id: UUID, *, org_id: str) -> list[Evidence]:
    query = sa.select(Evidences).where(Evidences.c.assessment_id == assessment_id, Evidences.c.org_id == org_id)
    return [_evidence(r) for r in (await db.execute(query.order_by(Evidences.c.added_at, Evidences.c.id))).all()]


async def get_evidence(db: Executor, assessment_id: UUID, evidence_id: UUID, *, org_id: str) -> Evidence:
    query = sa.select(Evidences).where(
        Evidences.c.id == evidence_id, Evidences.c.assessment_id == assessment_id, Evidences.c.org_id == org_id
    )
    row = (await db.execute(query)).one_or_none()
    if row is None:
        raise NotFound(f"evidence {evidence_id} not found", code="evidence_not_found")
    return _evidence(row)

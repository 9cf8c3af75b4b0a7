"""Assessments: drafted, answered, evidenced, submitted and reviewed; every one kept."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import outbox
from libs.common.auth import Principal
from libs.common.db import Executor, utcnow
from libs.common.errors import Invalid
from libs.common.storage import ObjectStore, check_content
from services.scoring import repository
from services.scoring.domain.assessments import Answer, Assessment, Evidence
from services.scoring.domain.frameworks import Framework
from services.scoring.use_cases import frameworks

PHOTO_TYPES = {"image/png", "image/jpeg"}
DOCUMENT_TYPES = {"application/pdf", "image/png", "image/jpeg", "image/tiff"}


async def start_assessment(
    db: AsyncSession,
    principal: Principal,
    *,
    framework: str,
    framework_version: str | None,
    subject_type: str,
    subject_id: UUID,
    self_assessment: bool,
    assessed_on: date | None = None,
) -> Assessment:
    chosen = await frameworks.framework_for_body(db, principal, framework, framework_version)
    assessment = Assessment.start(
        chosen,
        org_id=principal.org_id,
        subject_type=subject_type,
        subject_id=subject_id,
        self_assessment=self_assessment,
        by=principal.user_id,
        now=utcnow(),
        assessed_on=assessed_on,
    )
    await repository.save_assessment(db, assessment)
    return assessment


async def get_assessment(db: Executor, principal: Principal, assessment_id: UUID) -> tuple[Assessment, Framework]:
    assessment = await repository.get_assessment(db, assessment_id, org_id=principal.org_id)
    return assessment, await _framework(db, principal, assessment)


async def _framework(db: Executor, principal: Principal, assessment: Assessment) -> Framework:
    return await frameworks.get_framework(db, principal, assessment.framework_code, assessment.framework_version)


async def _for_change(
    db: AsyncSession, principal: Principal, assessment_id: UUID, *, version: int
) -> tuple[Assessment, Framework]:
    assessment = await repository.get_assessment(db, assessment_id, org_id=principal.org_id, for_update=True)
    assessment.check_version(version)
    return assessment, await _framework(db, principal, assessment)


async def record_answers(
    db: AsyncSession, principal: Principal, assessment_id: UUID, *, version: int, answers: dict[str, Answer]
) -> tuple[Assessment, Framework]:
    assessment, framework = await _for_change(db, principal, assessment_id, version=version)
    assessment.record_answers(framework, answers)
    await repository.save_assessment(db, assessment)
    return assessment, framework


async def submit_assessment(
    db: AsyncSession, principal: Principal, assessment_id: UUID, *, version: int
) -> tuple[Assessment, Framework]:
    assessment, framework = await _for_change(db, principal, assessment_id, version=version)
    event = assessment.submit(framework, now=utcnow())
    await repository.save_assessment(db, assessment)
    outbox.add(db, event, key=assessment.id)
    return assessment, framework


async def review_assessment(
    db: AsyncSession, principal: Principal, assessment_id: UUID, *, version: int, note: str
) -> tuple[Assessment, Framework]:
    assessment, framework = await _for_change(db, principal, assessment_id, version=version)
    event = assessment.review(by=principal.user_id, note=note, now=utcnow())
    await repository.save_assessment(db, assessment)
    outbox.add(db, event, key=assessment.id)
    return assessment, framework


@dataclass(frozen=True)
class File:
    data: bytes
    filename: str
    content_type: str


async def add_evidence(
    db: AsyncSession,
    principal: Principal,
    assessment_id: UUID,
    *,
    requirement_id: str | None,
    kind: str,
    text: str,
    file: File | None,
    store: ObjectStore,
    max_bytes: int,
) -> Evidence:
    """Checked before anything is written; the object is stored by its hash (idempotent)."""
    assessment = await repository.get_assessment(db, assessment_id, org_id=principal.org_id, for_update=True)
    assessment.check_evidence_target(await _framework(db, principal, assessment), requirement_id)
    stored = None
    if kind == "text":
        if file is not None or not text.strip():
            raise Invalid("text evidence has a text and no file", code="invalid_evidence")
    else:
        if file is None:
            raise Invalid(f"{kind} evidence needs a file", code="invalid_evidence")
        content_type = file.content_type.split(";")[0].strip().lower()
        allowed = PHOTO_TYPES if kind == "photo" else DOCUMENT_TYPES
        check_content(file.data, content_type, max_bytes=max_bytes, allowed=allowed)
        stored = await store.put(file.data, content_type)
    evidence = Evidence(
        id=uuid4(),
        org_id=principal.org_id,
        assessment_id=assessment.id,
        requirement_id=requirement_id,
        kind=kind,
        text=text,
        filename=file.filename.replace("\\", "/").rsplit("/", 1)[-1][:255] if file else None,
        content_type=stored.content_type if stored else None,
        size=stored.size if stored else None,
        sha256=stored.sha256 if stored else None,
        object_key=stored.key if stored else None,
        added_by=principal.user_id,
        added_at=utcnow(),
    )
    await repository.save_evidence(db, evidence)
    return evidence


async def list_evidence(db: Executor, principal: Principal, assessment_id: UUID) -> list[Evidence]:
    await repository.get_assessment(db, assessment_id, org_id=principal.org_id)
    return await repository.list_evidence(db, assessment_id, org_id=principal.org_id)


async def read_evidence_content(
    db: Executor, principal: Principal, assessment_id: UUID, evidence_id: UUID, *, store: ObjectStore
) -> tuple[Evidence, bytes]:
    evidence = await repository.get_evidence(db, assessment_id, evidence_id, org_id=principal.org_id)
    if evidence.object_key is None or evidence.sha256 is None:
        raise Invalid("text evidence has no content to download", code="no_content")
    data = await store.get(evidence.object_key)
    if hashlib.sha256(data).hexdigest() != evidence.sha256:
        raise RuntimeError(f"stored object {evidence.object_key} does not match its sha256")
    return evidence, data


async def list_assessments(
    db: Executor, principal: Principal, *, subject_id: UUID | None, framework: str | None, page
) -> tuple[list[Assessment], int]:  # type: ignore[no-untyped-def]
    return await repository.list_assessments(
        db, org_id=principal.org_id, subject_id=subject_id, framework=framework, page=page
    )

"""HTTP routes of the scoring service: frameworks, assessments, evidence, progress, chart and PDF."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Query, Request, Response, UploadFile
from pydantic import Field

from libs.common import gate
from libs.common.db import DbRead, DbTransaction
from libs.common.errors import Invalid
from libs.common.pagination import PageQuery
from libs.common.schemas import RequestBody
from libs.common.storage import ObjectStore
from services.scoring import reports
from services.scoring.access import Admin, Assessor, Reader, Reviewer
from services.scoring.domain.assessments import Answer
from services.scoring.domain.frameworks import ID
from services.scoring.schemas import (
    AssessmentPage,
    AssessmentRead,
    ComparisonRead,
    EvidenceList,
    EvidenceRead,
    FrameworkList,
    FrameworkSummary,
    PointRead,
    ProgressRead,
    RecordAnswers,
    Review,
    StartAssessment,
    Transition,
    UploadFramework,
)
from services.scoring.use_cases import assessments, frameworks, progress

router = APIRouter(tags=["scoring"])
Code = Annotated[str, Query(pattern=ID, max_length=64)]
EVIDENCE_MAX_BYTES = 20 * 1024 * 1024


async def _store(request: Request) -> ObjectStore:
    return request.app.state.store


Store = Annotated[ObjectStore, Depends(_store)]


@router.get("/frameworks", summary="Framework versions the organisation can assess against")
async def list_frameworks(principal: Reader, db: DbRead) -> FrameworkList:
    found = await frameworks.list_frameworks(db, principal)
    return FrameworkList(items=[FrameworkSummary.of(f, s, forced) for f, s, forced in found])


@router.get("/frameworks/{code}/{version}", summary="A framework version's definition")
async def get_framework(code: str, version: str, principal: Reader, db: DbRead) -> dict:  # type: ignore[type-arg]
    return (await frameworks.get_framework(db, principal, code, version)).model_dump()


@router.post(
    "/frameworks",
    status_code=201,
    summary="Upload a new framework version (YAML or JSON); a malformed one is refused with its place",
    responses={
        409: {"description": "framework_version_exists"},
        422: {"description": "invalid_framework, rule_refers_to_nothing"},
    },
)
async def upload_framework(body: UploadFramework, principal: Admin, db: DbTransaction) -> FrameworkSummary:
    framework = await frameworks.upload_framework(db, principal, source=body.source)
    return FrameworkSummary.of(framework, "upload", True)


@router.post("/assessments", status_code=201, summary="Start a draft assessment against a framework version")
async def start_assessment(body: StartAssessment, principal: Assessor, db: DbTransaction) -> AssessmentRead:
    assessment = await assessments.start_assessment(
        db,
        principal,
        framework=body.framework,
        framework_version=body.framework_version,
        subject_type=body.subject_type,
        subject_id=body.subject_id,
        self_assessment=body.self_assessment,
        assessed_on=body.assessed_on,
    )
    _, framework = await assessments.get_assessment(db, principal, assessment.id)
    return AssessmentRead.from_domain(assessment, framework)


@router.get("/assessments", summary="The organisation's assessments")
async def list_assessments(
    principal: Reader, db: DbRead, page: PageQuery, subject_id: UUID | None = None, framework: Code | None = None
) -> AssessmentPage:
    found, total = await assessments.list_assessments(
        db, principal, subject_id=subject_id, framework=framework, page=page
    )
    known = {(f.code, f.version): f for f, _, _ in await frameworks.list_frameworks(db, principal)}
    items = [AssessmentRead.from_domain(a, known[(a.framework_code, a.framework_version)]) for a in found]
    return AssessmentPage(items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/assessments/{assessment_id}", summary="An assessment with what it adds up to")
async def get_assessment(assessment_id: UUID, principal: Reader, db: DbRead) -> AssessmentRead:
    return AssessmentRead.from_domain(*await assessments.get_assessment(db, principal, assessment_id))


@router.patch("/assessments/{assessment_id}/answers", summary="Record answers of a draft (per requirement)")
async def record_answers(
    assessment_id: UUID, body: RecordAnswers, principal: Assessor, db: DbTransaction
) -> AssessmentRead:
    answers = {k: Answer(answer=a.answer, note=a.note) for k, a in body.answers.items()}
    found = await assessments.record_answers(db, principal, assessment_id, version=body.version, answers=answers)
    return AssessmentRead.from_domain(*found)


@router.post("/assessments/{assessment_id}/submit", summary="Submit a draft: every requirement needs an answer")
async def submit_assessment(
    assessment_id: UUID, body: Transition, principal: Assessor, db: DbTransaction
) -> AssessmentRead:
    return AssessmentRead.from_domain(
        *await assessments.submit_assessment(db, principal, assessment_id, version=body.version)
    )


@router.post("/assessments/{assessment_id}/review", summary="Review a submitted assessment (not by its assessor)")
async def review_assessment(
    assessment_id: UUID, body: Review, principal: Reviewer, db: DbTransaction
) -> AssessmentRead:
    found = await assessments.review_assessment(db, principal, assessment_id, version=body.version, note=body.note)
    return AssessmentRead.from_domain(*found)


class AddEvidence(RequestBody):
    """The form of a piece of evidence: text, or a file (a document or a photo), for a requirement or the whole."""

    kind: Literal["text", "document", "photo"]
    requirement_id: Annotated[str | None, Field(pattern=ID, max_length=64)] = None
    text: Annotated[str, Field(max_length=4000)] = ""
    file: UploadFile | None = None


@router.post(
    "/assessments/{assessment_id}/evidence",
    status_code=201,
    summary="Add evidence: text, a document (pdf, image) or a photo (png, jpeg), stored by sha256",
    dependencies=[gate.body_limit(lambda _settings: EVIDENCE_MAX_BYTES + 64 * 1024)],
)
async def add_evidence(
    assessment_id: UUID,
    principal: Assessor,
    db: DbTransaction,
    store: Store,
    form: Annotated[AddEvidence, Form()],
) -> EvidenceRead:
    upload = None
    if form.file is not None:
        data = await form.file.read(EVIDENCE_MAX_BYTES + 1)
        upload = assessments.File(
            data=data, filename=form.file.filename or "", content_type=form.file.content_type or ""
        )
    kind, requirement_id, text = form.kind, form.requirement_id, form.text
    evidence = await assessments.add_evidence(
        db,
        principal,
        assessment_id,
        requirement_id=requirement_id,
        kind=kind,
        text=text,
        file=upload,
        store=store,
        max_bytes=EVIDENCE_MAX_BYTES,
    )
    return EvidenceRead.from_domain(evidence)


@router.get("/assessments/{assessment_id}/evidence", summary="An assessment's evidence")
async def list_evidence(assessment_id: UUID, principal: Reader, db: DbRead) -> EvidenceList:
    found = await assessments.list_evidence(db, principal, assessment_id)
    return EvidenceList(items=[EvidenceRead.from_domain(e) for e in found])


@router.get(
    "/assessments/{assessment_id}/evidence/{evidence_id}/content",
    summary="Download a piece of evidence",
    response_class=Response,
    responses={200: {"content": {t: {} for t in ("application/pdf", "image/png", "image/jpeg", "image/tiff")}}},
)
async def get_evidence_content(
    assessment_id: UUID, evidence_id: UUID, principal: Reader, db: DbRead, store: Store
) -> Response:
    evidence, data = await assessments.read_evidence_content(db, principal, assessment_id, evidence_id, store=store)
    return Response(
        content=data,
        media_type=evidence.content_type,
        headers={"ETag": f'"{evidence.sha256}"', "X-Content-Type-Options": "nosniff"},
    )


@router.get(
    "/assessments/{assessment_id}/summary.pdf",
    summary="One-page summary a producer can hand to a buyer",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def summary_pdf(assessment_id: UUID, principal: Reader, db: DbRead) -> Response:
    assessment, framework = await assessments.get_assessment(db, principal, assessment_id)
    evidence = await assessments.list_evidence(db, principal, assessment_id)
    result = assessment.evaluate(framework, at=assessment.submitted_at or assessment.created_at)
    return Response(content=reports.summary_pdf(framework, assessment, result, evidence), media_type="application/pdf")


@router.get("/assessments/{first_id}/compare/{second_id}", summary="Compare two assessments")
async def compare(first_id: UUID, second_id: UUID, principal: Reader, db: DbRead) -> ComparisonRead:
    first, second = await progress.compare(db, principal, first_id, second_id)
    return ComparisonRead(first=PointRead.from_domain(first), second=PointRead.from_domain(second))


@router.get("/progress", summary="A subject's assessments under one framework, oldest first, with deltas")
async def get_progress(
    principal: Reader, db: DbRead, subject_id: UUID, framework: Code, self_assessment: bool = False
) -> ProgressRead:
    points = await progress.progress(
        db, principal, subject_id=subject_id, framework=framework, self_assessment=self_assessment
    )
    return ProgressRead(
        subject_id=subject_id,
        framework=framework,
        label="self-assessment" if self_assessment else "verified",
        points=[PointRead.from_domain(p) for p in points],
    )


@router.get(
    "/progress/chart.svg",
    summary="A subject's progress per group of one dimension (e.g. module, category) as SVG",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
)
async def progress_chart(
    principal: Reader,
    db: DbRead,
    subject_id: UUID,
    framework: Code,
    dimension: Code = "module",
    self_assessment: bool = False,
) -> Response:
    definition = await frameworks.get_framework(db, principal, framework)
    if dimension not in definition.dimensions:
        raise Invalid(f"{definition.key} has no dimension {dimension!r}", code="unknown_dimension")
    points = await progress.progress(
        db, principal, subject_id=subject_id, framework=framework, self_assessment=self_assessment
    )
    return Response(content=reports.progress_chart(definition, points, dimension=dimension), media_type="image/svg+xml")

"""HTTP routes of risk scores: a subject's score now or at a time, its history, and full recomputes."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime

from libs.common.auth import CurrentPrincipal, Principal, require_role
from libs.common.db import DbRead, DbTransaction
from libs.common.pagination import PageQuery, fetch_page
from libs.common.schemas import Page
from services.scoring.risk import repository, use_cases
from services.scoring.risk.schemas import RecomputeRequestRead, ScoreRead, SubjectType

router = APIRouter(prefix="/scores", tags=["risk scores"])
Admin = Annotated[Principal, Depends(require_role("admin"))]
NOT_FOUND = {
    404: {"description": "score_not_found: no score of this subject (at that time) in the caller's organisation"}
}
HISTORY = repository.history_query()


@router.post(
    "/recompute", status_code=202, summary="Ask for a full recompute of the organisation's risk scores (admin)"
)
async def request_recompute(principal: Admin, db: DbTransaction) -> RecomputeRequestRead:
    request = await use_cases.request_recompute(db, org_id=principal.org_id, requested_by=principal.user_id)
    return RecomputeRequestRead.model_validate(request)


@router.get(
    "/recompute/{request_id}",
    summary="A requested full recompute: pending, or finished with how many scores changed",
    responses={404: {"description": "recompute_request_not_found"}},
)
async def get_recompute_request(request_id: UUID, principal: Admin, db: DbRead) -> RecomputeRequestRead:
    row = await repository.get_recompute_request(db, request_id, org_id=principal.org_id)
    return RecomputeRequestRead.model_validate(row, from_attributes=True)


@router.get(
    "/{subject_type}/{subject_id}", summary="A subject's risk score, now or as it was at a time", responses=NOT_FOUND
)
async def get_score(
    subject_type: SubjectType,
    subject_id: UUID,
    principal: CurrentPrincipal,
    db: DbRead,
    at: Annotated[AwareDatetime | None, Query(description="the score in force at this time")] = None,
) -> ScoreRead:
    row = await repository.get_score(db, subject_type.value, subject_id, org_id=principal.org_id, at=at)
    return ScoreRead.from_row(row)


@router.get(
    "/{subject_type}/{subject_id}/history", summary="Every score a subject had, newest first", responses=NOT_FOUND
)
async def list_score_history(
    subject_type: SubjectType, subject_id: UUID, principal: CurrentPrincipal, db: DbRead, page: PageQuery
) -> Page[ScoreRead]:
    params = {"subject_type": subject_type.value, "subject_id": subject_id, "org_id": principal.org_id}
    rows, total = await fetch_page(db, HISTORY, page, params)
    if total == 0:
        await repository.get_score(db, subject_type.value, subject_id, org_id=principal.org_id)  # 404 if none
    return Page[ScoreRead](
        items=[ScoreRead.from_row(r) for r in rows], total=total, limit=page.limit, offset=page.offset
    )

"""HTTP routes of risk scores: a subject's score now or at a time, and its history."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from libs.common.auth import CurrentPrincipal
from libs.common.db import DbRead
from libs.common.pagination import PageQuery, fetch_page
from libs.common.schemas import Page
from services.scoring.risk import repository
from services.scoring.risk.schemas import ScoreRead, SubjectType

router = APIRouter(prefix="/scores", tags=["risk scores"])
NOT_FOUND = {
    404: {"description": "score_not_found: no score of this subject (at that time) in the caller's organisation"}
}
HISTORY = repository.history_query()


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

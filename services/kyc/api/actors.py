"""HTTP routes of actors: register, read, list, correct; and the list of overdue reviews."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from libs.common.concurrency import VERSION_RESPONSES, IfMatch, expected_version
from libs.common.db import DbRead, DbStatement, DbTransaction, utcnow
from libs.common.pagination import PageQuery
from libs.common.schemas import IsoDate
from services.kyc.access import Creator, Editor, Reader
from services.kyc.schemas.actors import (
    ActorPage,
    ActorRead,
    ActorType,
    KycStatus,
    RegisterActor,
    RiskLevel,
    UpdateActor,
    page_of_rows,
)
from services.kyc.schemas.text import search_query
from services.kyc.schemas.workflow import OverdueReviewPage
from services.kyc.use_cases import actors as use_cases
from services.kyc.use_cases import reviews

router = APIRouter(prefix="/actors", tags=["actors"])
NOT_FOUND = {404: {"description": "no such actor in the caller's organisation (or shared with it)"}}


@router.get("/reviews/overdue", summary="Approved or suspended actors whose next review date has passed")
async def list_overdue_reviews(
    principal: Reader, db: DbRead, page: PageQuery, as_of: IsoDate | None = None
) -> OverdueReviewPage:
    actors, total = await reviews.list_overdue_reviews(db, principal, today=as_of or utcnow().date(), page=page)
    return OverdueReviewPage(
        items=[ActorRead.from_domain(a) for a in actors], total=total, limit=page.limit, offset=page.offset
    )


@router.post(
    "",
    status_code=201,
    summary="Register an actor (draft); screening is requested",
    responses={409: {"description": "duplicate_registration"}, 422: {"description": "invalid input"}},
)
async def register_actor(body: RegisterActor, principal: Creator, db: DbStatement) -> ActorRead:
    # One statement writes the actor, its history entry, its screening request and its event (DbStatement).
    return ActorRead.from_domain(await use_cases.register_actor(db, principal, values=body.model_dump()))


@router.get("", summary="Actors the caller's organisation owns or was shared, with filters")
async def list_actors(
    principal: Reader,
    db: DbRead,
    page: PageQuery,
    kyc_status: KycStatus | None = None,
    actor_type: ActorType | None = None,
    country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$")] = None,
    region: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}-[A-Za-z0-9]{1,3}$")] = None,
    risk_level: RiskLevel | None = None,
    mineral: Annotated[str | None, Query(pattern=r"^[0-9]{4,10}$")] = None,
    q: Annotated[
        search_query(100) | None,
        Query(description="part of the legal name, an alias or the registration number; case and accents ignored"),
    ] = None,
) -> ActorPage:
    rows, total = await use_cases.list_actors(
        db,
        principal,
        page=page,
        kyc_status=kyc_status,
        actor_type=actor_type,
        country=country,
        region=region,
        risk_level=risk_level,
        mineral=mineral,
        name=q,
    )
    return page_of_rows(rows, total=total, limit=page.limit, offset=page.offset)


@router.get("/{actor_id}", summary="One actor", responses=NOT_FOUND)
async def get_actor(actor_id: UUID, principal: Reader, db: DbRead) -> ActorRead:
    return ActorRead.from_row(await use_cases.get_actor(db, principal, actor_id))


@router.patch(
    "/{actor_id}",
    summary="Correct an actor's fields (optimistic concurrency via `version`)",
    responses={
        **VERSION_RESPONSES,
        **NOT_FOUND,
        409: {"description": "stale_version, duplicate_registration, actor_locked"},
    },
)
async def update_actor(
    actor_id: UUID, body: UpdateActor, principal: Editor, db: DbTransaction, if_match: IfMatch
) -> ActorRead:
    version = expected_version(body.version, if_match)
    actor = await use_cases.update_actor(db, principal, actor_id, changes=body.changes(), version=version)
    return ActorRead.from_domain(actor)

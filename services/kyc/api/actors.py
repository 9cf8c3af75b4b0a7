"""HTTP routes of actors: register, read, list, correct; and the list of overdue reviews."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError

from libs.common.concurrency import VERSION_RESPONSES, IfMatch, expected_version
from libs.common.db import DbRead, DbStatement, DbTransaction, utcnow
from libs.common.pagination import MAX_LIMIT, MAX_OFFSET, PageQuery, Pagination
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


class ActorListQuery(BaseModel):
    """The query of a list of actors: its filters and its page."""

    kyc_status: KycStatus | None = None
    actor_type: ActorType | None = None
    country: Annotated[str | None, Field(pattern=r"^[A-Za-z]{2}$")] = None
    region: Annotated[str | None, Field(pattern=r"^[A-Za-z]{2}-[A-Za-z0-9]{1,3}$")] = None
    risk_level: RiskLevel | None = None
    mineral: Annotated[str | None, Field(pattern=r"^[0-9]{4,10}$")] = None
    q: Annotated[
        search_query(100) | None,
        Field(description="part of the legal name, an alias or the registration number; case and accents ignored"),
    ] = None
    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT, description="items per page")] = 100
    offset: Annotated[int, Field(ge=0, le=MAX_OFFSET, description="items to skip")] = 0


_LIST_QUERY, _PAGE = tuple(ActorListQuery.model_fields), ("limit", "offset")


async def _list_query(request: Request) -> ActorListQuery:
    """The list's query parameters validated as one model: FastAPI's extraction and validation of nine parameters
    one by one (and of the page as a dependency of its own) was a tenth of a list's CPU. Errors are FastAPI's own
    (a 422 naming each parameter as `query.<name>`); the last of a repeated parameter counts, as in FastAPI."""
    given = request.query_params
    try:
        return ActorListQuery.model_validate({name: given[name] for name in _LIST_QUERY if name in given})
    except ValidationError as exc:
        # The page's errors first, as when it was a dependency of its own (solved before the route's parameters).
        errors = sorted(exc.errors(include_url=False), key=lambda error: error["loc"][0] not in _PAGE)
        raise RequestValidationError([{**error, "loc": ("query", *error["loc"])} for error in errors]) from None


def _documented_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """The OpenAPI parameters FastAPI documents for `model` as a route's query: what the route reads itself."""
    scratch = FastAPI()

    async def documented(query: Any) -> None:
        return None

    documented.__annotations__ = {"query": Annotated[model, Query()], "return": None}  # this module's are strings
    scratch.get("/")(documented)
    parameters: list[dict[str, Any]] = scratch.openapi()["paths"]["/"]["get"]["parameters"]
    return parameters


@router.get(
    "",
    summary="Actors the caller's organisation owns or was shared, with filters",
    openapi_extra={"parameters": _documented_parameters(ActorListQuery)},
)
async def list_actors(
    principal: Reader, db: DbRead, query: Annotated[ActorListQuery, Depends(_list_query)]
) -> ActorPage:
    page = Pagination(limit=query.limit, offset=query.offset)
    rows, total = await use_cases.list_actors(
        db,
        principal,
        page=page,
        kyc_status=query.kyc_status,
        actor_type=query.actor_type,
        country=query.country,
        region=query.region,
        risk_level=query.risk_level,
        mineral=query.mineral,
        name=query.q,
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

"""HTTP routes of an actor's beneficial owners and key persons."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from libs.common.concurrency import VERSION_RESPONSES, IfMatch, expected_version
from libs.common.db import DbRead, DbTransaction
from services.kyc.access import Creator, Editor, Reader
from services.kyc.schemas.persons import AddPerson, PersonRead, UpdatePerson
from services.kyc.use_cases import persons as use_cases

router = APIRouter(prefix="/actors/{actor_id}/persons", tags=["persons"])
NOT_FOUND = {404: {"description": "no such actor or person in the caller's organisation"}}
CONFLICTS = {
    409: {"description": "actor_locked (the actor is under review or rejected)"},
    422: {"description": "ownership_exceeds_100, birth_date_in_future, unknown_country..."},
}


@router.post(
    "",
    status_code=201,
    summary="Add a beneficial owner or key person; screening is requested",
    responses={**NOT_FOUND, **CONFLICTS},
)
async def add_person(actor_id: UUID, body: AddPerson, principal: Creator, db: DbTransaction) -> PersonRead:
    return PersonRead.from_domain(await use_cases.add_person(db, principal, actor_id, values=body.model_dump()))


@router.get("", summary="The actor's persons", responses=NOT_FOUND)
async def list_persons(actor_id: UUID, principal: Reader, db: DbRead) -> list[PersonRead]:
    return [PersonRead.from_domain(p) for p in await use_cases.list_persons(db, principal, actor_id)]


@router.get("/{person_id}", summary="One person", responses=NOT_FOUND)
async def get_person(actor_id: UUID, person_id: UUID, principal: Reader, db: DbRead) -> PersonRead:
    return PersonRead.from_domain(await use_cases.get_person(db, principal, actor_id, person_id))


@router.patch(
    "/{person_id}",
    summary="Correct a person (optimistic concurrency via `version` or If-Match); changed screened fields are screened",
    responses={**VERSION_RESPONSES, **NOT_FOUND, **CONFLICTS},
)
async def update_person(
    actor_id: UUID, person_id: UUID, body: UpdatePerson, principal: Editor, db: DbTransaction, if_match: IfMatch
) -> PersonRead:
    version = expected_version(body.version, if_match)
    person = await use_cases.update_person(db, principal, actor_id, person_id, changes=body.changes(), version=version)
    return PersonRead.from_domain(person)


@router.delete(
    "/{person_id}",
    status_code=204,
    summary="Remove a person (kept in the history); If-Match names the person's version last read",
    responses={**VERSION_RESPONSES, **NOT_FOUND, **CONFLICTS},
)
async def remove_person(
    actor_id: UUID, person_id: UUID, principal: Editor, db: DbTransaction, if_match: IfMatch
) -> Response:
    await use_cases.remove_person(db, principal, actor_id, person_id, version=expected_version(None, if_match))
    return Response(status_code=204)

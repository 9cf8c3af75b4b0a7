"""HTTP routes of sharing an actor with another organisation (e.g. a smelter that buys from it)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Response

from libs.common.db import DbRead, DbTransaction
from services.kyc.access import Admin, Reader
from services.kyc.schemas.sharing import ShareActor, ShareRead
from services.kyc.schemas.text import NO_CONTROL
from services.kyc.use_cases import sharing as use_cases

router = APIRouter(prefix="/actors/{actor_id}/shares", tags=["sharing"])
NOT_FOUND = {404: {"description": "no such actor (or share) in the caller's organisation"}}
OrgPath = Annotated[str, Path(min_length=1, max_length=100, pattern=NO_CONTROL)]


@router.post(
    "",
    summary="Let another organisation read this actor and its licences (idempotent)",
    responses={**NOT_FOUND, 422: {"description": "invalid_share_target"}},
)
async def share_actor(actor_id: UUID, body: ShareActor, principal: Admin, db: DbTransaction) -> ShareRead:
    return ShareRead.from_domain(await use_cases.share_actor(db, principal, actor_id, grantee_org_id=body.org_id))


@router.get("", summary="Organisations this actor is shared with", responses=NOT_FOUND)
async def list_shares(actor_id: UUID, principal: Reader, db: DbRead) -> list[ShareRead]:
    return [ShareRead.from_domain(s) for s in await use_cases.list_shares(db, principal, actor_id)]


@router.delete(
    "/{org_id}", status_code=204, summary="Stop sharing this actor with an organisation", responses=NOT_FOUND
)
async def unshare_actor(actor_id: UUID, org_id: OrgPath, principal: Admin, db: DbTransaction) -> Response:
    await use_cases.unshare_actor(db, principal, actor_id, org_id)
    return Response(status_code=204)

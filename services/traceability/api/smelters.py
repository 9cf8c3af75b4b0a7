"""Routes for smelters (and the operator on their behalf): the custody view of a lot, the mine list as CSV."""

from __future__ import annotations

import csv
import io
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from libs.common.db import DbRead
from libs.common.errors import Forbidden, Invalid
from libs.common.schemas import IsoDate
from services.traceability import access
from services.traceability.access import Caller
from services.traceability.schemas.custody_view import CustodyViewRead
from services.traceability.use_cases import custody_view, mine_list

router = APIRouter(tags=["smelters"])
NOT_FOUND = {404: {"description": "unknown here, another organisation's, or (for a smelter) never in its custody"}}


@router.get(
    "/lots/{lot_id}/custody",
    summary="A lot's whole chain back to the mines: lots, events, actors, sites, incidents, risk, mass balance, proof",
    responses=NOT_FOUND,
)
async def get_custody_view(lot_id: UUID, request: Request, principal: Caller, db: DbRead) -> CustodyViewRead:
    await access.require_visible(db, lot_id, principal)
    return await custody_view.custody_view(db, lot_id, org_id=principal.org_id, base_url=str(request.base_url))


@router.get(
    "/mine-list.csv",
    summary="The origin mines behind the lots a smelter received in a period (CMRT/EMRT mine-list style), as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def get_mine_list(
    principal: Caller,
    db: DbRead,
    since: Annotated[IsoDate, Query(alias="from", description="first day, YYYY-MM-DD")],
    until: Annotated[IsoDate, Query(alias="to", description="last day (included), YYYY-MM-DD")],
    smelter_actor_id: Annotated[
        UUID | None, Query(description="required for operators; a smelter's is its own")
    ] = None,
) -> Response:
    own = access.smelter_actor(principal)
    if own is not None and smelter_actor_id not in (None, own):
        raise Forbidden("a smelter sees its own mine list only", code="not_your_actor")
    actor_id = own or smelter_actor_id
    if actor_id is None:
        raise Invalid("name the smelter: smelter_actor_id", code="smelter_actor_required")
    rows = await mine_list.mine_list(db, actor_id, org_id=principal.org_id, start=since, end=until)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(mine_list.COLUMNS)
    writer.writerows(rows)
    name = f"mine-list-{actor_id}-{since.isoformat()}-{until.isoformat()}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )

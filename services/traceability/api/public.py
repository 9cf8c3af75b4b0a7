"""The public tag check: anyone holding a tag number asks, without login and rate-limited, whether it is real.

Tags are issued from one registry for the whole platform: `tag.tag` is the primary key, and a block that would
re-issue a tag another organisation holds skips it, so a tag number names at most one tag of one organisation and
the check needs no organisation to be unambiguous. The answer says only whether the tag was issued and, when a lot
uses it, that lot's status (active, in transit, consumed or blocked): no organisation, name, mass, site or id. An
unknown tag is one 404 (`tag_unknown`) whatever the reason, answered by the same single query as a known one."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel

from libs.common.db import DbRead
from libs.common.errors import NotFound
from libs.common.ratelimit import RateLimiter, client_address
from libs.common.schemas import NO_CONTROL
from services.traceability.repository import lots as lot_store

router = APIRouter(prefix="/public", tags=["public tag check"])
PUBLIC_PREFIX = "/public/"


async def _rate_limited(request: Request) -> None:
    limiter: RateLimiter = request.app.state.tag_limiter
    limiter.check(client_address(request))


class TagCheck(BaseModel):
    issued: Literal[True] = True
    lot_status: Literal["unused", "active", "in_transit", "consumed", "blocked"]


@router.get(
    "/tags/{tag}",
    dependencies=[Depends(_rate_limited)],
    summary="Is this a real, issued tag, and is its lot active, in transit, consumed or blocked (no login)",
    responses={404: {"description": "tag_unknown"}, 429: {"description": "too_many_requests"}},
)
async def check_tag(
    tag: Annotated[str, Path(min_length=1, max_length=100, pattern=NO_CONTROL)], db: DbRead
) -> TagCheck:
    status = await lot_store.public_tag_status(db, tag)
    if status is None:
        raise NotFound("no such tag has been issued", code="tag_unknown")
    return TagCheck(lot_status=status)  # type: ignore[arg-type]

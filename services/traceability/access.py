"""Who may do what in traceability: a smelter reads the lots its actor holds or held and their lineage; an operator
its whole programme, and only operators record custody."""

# No `from __future__ import annotations`: FastAPI must see the inner dependency as an object.
from typing import Annotated
from uuid import UUID

from fastapi import Depends

from libs.common.auth import CurrentPrincipal, OrgKind, Principal
from libs.common.db import Executor
from libs.common.errors import Forbidden, NotFound
from services.traceability.repository import lots as lot_store


async def caller(principal: CurrentPrincipal) -> Principal:
    """Any caller of the programme; a smelter's token must name its actor (JWT_CLAIM_ACTOR_ID), a UUID."""
    if principal.org_kind is OrgKind.SMELTER:
        try:
            UUID(principal.actor_id or "")
        except ValueError:
            raise Forbidden(
                "a smelter's token must name its actor in the programme (the actor_id claim)",
                code="smelter_actor_missing",
            ) from None
    return principal


async def operator(principal: Annotated[Principal, Depends(caller)]) -> Principal:
    """Custody is recorded by the programme's operator; smelters read."""
    if principal.org_kind is OrgKind.SMELTER:
        raise Forbidden("smelters read custody; the programme's operator records it", code="operator_only")
    return principal


Caller = Annotated[Principal, Depends(caller)]
Operator = Annotated[Principal, Depends(operator)]


def smelter_actor(principal: Principal) -> UUID | None:
    """The smelter's actor for a smelter (checked by `caller`), None for everyone else."""
    if principal.org_kind is OrgKind.SMELTER and principal.actor_id:
        return UUID(principal.actor_id)
    return None


async def require_visible(db: Executor, lot_id: UUID, principal: Principal) -> None:
    """404 for a smelter asking about a lot it never held and that is upstream of none it held; operators pass (their
    reads are scoped to the programme by org_id)."""
    actor_id = smelter_actor(principal)
    if actor_id is None:
        return
    if not await lot_store.held_or_upstream_of_held(db, lot_id, org_id=principal.org_id, actor_id=actor_id):
        raise NotFound(f"lot {lot_id} not found", code="lot_not_found")

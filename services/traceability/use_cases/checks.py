"""Write-time rules that read the local copies of KYC and incidents: approved actors, blocked lots."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import Executor
from libs.common.errors import Conflict, Invalid
from services.traceability.repository import read_models

BLOCKING_SITE_STATUSES = ("red",)
# Session info of a batch running an item without a savepoint: False until the item's write calls `writing`.
WRITING = "traceability.writing"


def writing(db: AsyncSession) -> None:
    """A custody write says so once every refusal is behind it, just before its first write. A batch runs such
    items without a savepoint of their own: a refusal before this point has written nothing, and one after it
    (which the writes do not do) fails the whole batch instead of leaving half an item (batch._Savepoints)."""
    if WRITING in db.info:
        db.info[WRITING] = True


# Session info of a batch: the actors' copies it names, read once at its start (`read_actors`), as a single write
# reads them once at its start; a copy changing meanwhile is seen by the next batch, as by the next single write.
ACTORS_CACHE = "traceability.actors"


async def read_actors(db: AsyncSession, actor_ids: Iterable[UUID], *, org_id: str) -> None:
    """Read the copies of `actor_ids` once for this session's transaction (ACTORS_CACHE); unknown ones are read
    again where they are checked (and refused there)."""
    db.info[ACTORS_CACHE] = await read_models.actors_by_id(db, actor_ids, org_id=org_id)


async def require_approved(db: Executor, actor_ids: Iterable[UUID], *, org_id: str) -> dict[UUID, sa.Row[Any]]:
    """Every actor must be known here, KYC-approved and not suspended; 422 for an unknown one, 409 otherwise."""
    ids = list(actor_ids)
    cache: dict[UUID, Any] | None = db.info.get(ACTORS_CACHE) if isinstance(db, AsyncSession) else None
    if cache is not None and all(actor_id in cache for actor_id in ids):
        known = cache
    else:
        known = await read_models.actors_by_id(db, ids, org_id=org_id)
    for actor_id in ids:
        actor = known.get(actor_id)
        if actor is None:
            raise Invalid(f"actor {actor_id} is not known to traceability", code="unknown_actor")
        if actor.kyc_status != "approved":
            raise Conflict(f"actor {actor_id} is {actor.kyc_status}, not approved", code="actor_not_approved")
    return known


@dataclass(frozen=True)
class Blockers:
    """What blocks lots in one organisation now, read once from the read models: red sites, blocking incidents."""

    red_site_ids: frozenset[str]
    incidents: tuple[sa.Row[Any], ...]

    def reasons(self, lot: Any) -> list[str]:
        """Why `lot` may not move: a red origin site, or a verified level-1 incident on it, its sites or holder."""
        reasons = [f"site_red:{site}" for site in lot.origin_site_ids if site in self.red_site_ids]
        touching = {str(lot.lot_id), *lot.origin_site_ids}
        if lot.custodian_actor_id is not None:
            touching.add(str(lot.custodian_actor_id))
        for incident in self.incidents:
            if touching.intersection([*incident.lot_ids, *incident.site_ids, *incident.actor_ids]):
                reasons.append(f"incident:{incident.incident_id}")
        return sorted(set(reasons))


BLOCKERS_CACHE = "traceability.blockers"


async def blockers(db: Executor, *, org_id: str) -> Blockers:
    """Read once per call; a session whose info has a BLOCKERS_CACHE dict (a batch holding the organisation's block
    lock shared, so no read-model change can commit meanwhile) reads them once for its transaction."""
    cache: dict[str, Blockers] | None = db.info.get(BLOCKERS_CACHE) if isinstance(db, AsyncSession) else None
    if cache is not None and org_id in cache:
        return cache[org_id]
    found = await _read_blockers(db, org_id=org_id)
    if cache is not None:
        cache[org_id] = found
    return found


async def _read_blockers(db: Executor, *, org_id: str) -> Blockers:
    red = await read_models.site_ids_with_status(db, BLOCKING_SITE_STATUSES, org_id=org_id)
    incidents = await read_models.list_open_incidents(db, org_id=org_id, blocking_only=True)
    return Blockers(red_site_ids=frozenset(map(str, red)), incidents=tuple(incidents))


async def blocked_reasons(db: Executor, lot: Any, *, org_id: str) -> list[str]:
    """The reasons derived from the read models now (what `lot.blocked_reasons` is kept equal to)."""
    return (await blockers(db, org_id=org_id)).reasons(lot)


async def require_movable(db: Executor, lot: sa.Row[Any], *, org_id: str) -> None:
    """A consumed or blocked lot does not move.

    The stored `lot.blocked_reasons` is the one source of truth here, not a fresh derivation: it is what GET
    /lots/{id}, the public tag check and the LotBlocked / LotReleased events show, so a move is refused exactly
    when the lot shows blocked. It is kept equal to the derivation (`Blockers.reasons`) by use_cases/blocking.py:
    in the transaction that changes a site or incident copy (handlers), and in the custody writes that change what
    touches a lot (creation, confirmed transfer, transformation outputs). A read-model change locks the lots it
    recomputes, and shares an organisation lock with the writes that create lots or change a holder, so a move
    never acts on a state that a concurrent, committed read-model change has made stale (blocking.py)."""
    if lot.status == "consumed":
        raise Conflict(f"lot {lot.lot_id} was consumed by a transformation", code="lot_consumed")
    reasons = list(lot.blocked_reasons or [])
    if reasons:
        raise Conflict(f"lot {lot.lot_id} is blocked: {', '.join(reasons)}", code="lot_blocked", reasons=reasons)

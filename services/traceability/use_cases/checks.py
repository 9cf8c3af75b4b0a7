"""Write-time rules that read the local copies of KYC and incidents: approved actors, blocked lots."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from libs.common.db import Executor
from libs.common.errors import Conflict, Invalid
from services.traceability.repository import read_models

BLOCKING_SITE_STATUSES = ("red",)


async def require_approved(db: Executor, actor_ids: Iterable[UUID], *, org_id: str) -> dict[UUID, sa.Row[Any]]:
    """Every actor must be known here, KYC-approved and not suspended; 422 for an unknown one, 409 otherwise."""
    ids = list(actor_ids)
    known = await read_models.actors_by_id(db, ids, org_id=org_id)
    for actor_id in ids:
        actor = known.get(actor_id)
        if actor is None:
            raise Invalid(f"actor {actor_id} is not known to traceability", code="unknown_actor")
        if actor.kyc_status != "approved":
            raise Conflict(f"actor {actor_id} is {actor.kyc_status}, not approved", code="actor_not_approved")
    return known


async def blocked_reasons(db: Executor, lot: sa.Row[Any], *, org_id: str) -> list[str]:
    """Why `lot` may not move: a red origin site, or a verified level-1 incident on it, its sites or its holder."""
    origin = [UUID(s) for s in lot.origin_site_ids]
    sites = await read_models.sites_by_id(db, origin, org_id=org_id)
    reasons = [f"site_{site.status}:{site.site_id}" for site in sites.values() if site.status in BLOCKING_SITE_STATUSES]
    touching = {str(lot.lot_id), *lot.origin_site_ids}
    if lot.custodian_actor_id is not None:
        touching.add(str(lot.custodian_actor_id))
    for incident in await read_models.list_open_incidents(db, org_id=org_id, blocking_only=True):
        if touching.intersection([*incident.lot_ids, *incident.site_ids, *incident.actor_ids]):
            reasons.append(f"incident:{incident.incident_id}")
    return sorted(reasons)


async def require_movable(db: Executor, lot: sa.Row[Any], *, org_id: str) -> None:
    if lot.status == "consumed":
        raise Conflict(f"lot {lot.lot_id} was consumed by a transformation", code="lot_consumed")
    reasons = await blocked_reasons(db, lot, org_id=org_id)
    if reasons:
        raise Conflict(f"lot {lot.lot_id} is blocked: {', '.join(reasons)}", code="lot_blocked", reasons=reasons)

"""One async function per thing a user or another service can ask of traceability."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.events.kyc import ActorState
from services.traceability.repository import actors as repository


async def record_actor(db: AsyncSession, actor: ActorState, *, version: int) -> None:
    """Keep our copy of KYC's actor as of `version`: every event carries the whole state, so the newest one wins
    whatever order they arrive in, and an older or repeated one changes nothing."""
    await repository.save_known_actor(db, actor.actor_id, org_id=actor.org_id, version=version, **copied(actor))


def copied(actor: ActorState) -> dict[str, Any]:
    """What traceability keeps of KYC's actor state (besides its id, organisation and version)."""
    return {
        "legal_name": actor.legal_name,
        "actor_type": actor.actor_type,
        "country": actor.country,
        "region": actor.region,
        "kyc_status": actor.kyc_status,
        "risk_level": actor.risk_level,
    }

"""Reactions of the traceability service to other services' events."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.bus import Handlers
from libs.common.events.kyc import ActorApproved, ActorRegistered, ActorRejected, ActorReinstated, ActorSuspended
from services.traceability import use_cases


async def on_actor_registered(db: AsyncSession, event: ActorRegistered) -> None:
    await use_cases.record_actor_status(db, event.actor_id, org_id=event.org_id, kyc_status="draft",
                                        legal_name=event.legal_name, actor_type=event.actor_type)


async def on_actor_approved(db: AsyncSession, event: ActorApproved) -> None:
    await use_cases.record_actor_status(db, event.actor_id, org_id=event.org_id, kyc_status="approved",
                                        legal_name=event.legal_name, actor_type=event.actor_type,
                                        risk_level=event.risk_level)


async def on_actor_rejected(db: AsyncSession, event: ActorRejected) -> None:
    await use_cases.record_actor_status(db, event.actor_id, org_id=event.org_id, kyc_status="rejected")


async def on_actor_suspended(db: AsyncSession, event: ActorSuspended) -> None:
    await use_cases.record_actor_status(db, event.actor_id, org_id=event.org_id, kyc_status="suspended")


async def on_actor_reinstated(db: AsyncSession, event: ActorReinstated) -> None:
    await use_cases.record_actor_status(db, event.actor_id, org_id=event.org_id, kyc_status="approved")


HANDLERS: Handlers = {
    ActorRegistered: on_actor_registered,
    ActorApproved: on_actor_approved,
    ActorRejected: on_actor_rejected,
    ActorSuspended: on_actor_suspended,
    ActorReinstated: on_actor_reinstated,
}

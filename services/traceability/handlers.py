"""Reactions of the traceability service to other services' events."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.bus import Handlers
from libs.common.events.kyc import (
    ActorApproved,
    ActorRegistered,
    ActorReinstated,
    ActorRejected,
    ActorReopened,
    ActorReviewStarted,
    ActorSubmitted,
    ActorSuspended,
    ActorUpdated,
)
from services.traceability import use_cases

# Every event that can change what our copy keeps: each status move, and edits (name, type, country, region). The
# other KYC events keyed by an actor (shares, screenings, hits, licence dates) carry its state too but change none
# of it; skipping them only leaves gaps in the versions we see, which the version check allows.
ActorEvent = (
    ActorRegistered
    | ActorUpdated
    | ActorSubmitted
    | ActorReviewStarted
    | ActorApproved
    | ActorRejected
    | ActorSuspended
    | ActorReinstated
    | ActorReopened
)
ACTOR_EVENTS: tuple[type[ActorEvent], ...] = (
    ActorRegistered,
    ActorUpdated,
    ActorSubmitted,
    ActorReviewStarted,
    ActorApproved,
    ActorRejected,
    ActorSuspended,
    ActorReinstated,
    ActorReopened,
)


async def on_actor_event(db: AsyncSession, event: ActorEvent) -> None:
    await use_cases.record_actor(db, event.actor, version=event.aggregate_version)


HANDLERS: Handlers = {event_class: on_actor_event for event_class in ACTOR_EVENTS}

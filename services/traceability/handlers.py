"""Reactions of the traceability service to other services' events."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.bus import Handlers
from libs.common.events import incidents
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
    MineSiteRegistered,
    MineSiteStatusChanged,
    MineSiteUpdated,
)
from libs.common.events.scoring import ScoreChanged
from services.traceability.repository import actors as actor_copies
from services.traceability.use_cases import actors, blocking, read_models

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


SiteEvent = MineSiteRegistered | MineSiteUpdated | MineSiteStatusChanged
SITE_EVENTS: tuple[type[SiteEvent], ...] = (MineSiteRegistered, MineSiteUpdated, MineSiteStatusChanged)
INCIDENT_EVENTS: tuple[type[incidents.IncidentEvent], ...] = (
    incidents.IncidentReported,
    incidents.IncidentUpdated,
    incidents.IncidentTriaged,
    incidents.IncidentVerified,
    incidents.IncidentDismissed,
    incidents.IncidentEscalated,
    incidents.MitigationPlanned,
    incidents.MitigationActionUpdated,
    incidents.IncidentResolved,
    incidents.IncidentClosed,
    incidents.IncidentReopened,
    incidents.IncidentOverdue,
)


async def on_actor_event(db: AsyncSession, event: ActorEvent) -> None:
    """Our copy of the actor as of the event (the newest version wins, an older or repeated one changes nothing).
    Staged in the transaction and written with the batch's other actors by one statement at commit: the consumer
    applies a partition's batch in one transaction, and one upsert per event made the round trips its limit."""
    actor = event.actor
    actor_copies.stage_known_actor(
        db, actor.actor_id, org_id=actor.org_id, version=event.aggregate_version, **actors.copied(actor)
    )


async def on_site_event(db: AsyncSession, event: SiteEvent) -> None:
    """The copy, and in the same transaction the blocked state of the site's lots (LotBlocked / LotReleased)."""
    await actor_copies.flush_known_actors(db)  # what blocking reads includes the batch's earlier actor events
    await blocking.lock_org(db, event.site.org_id, exclusive=True)
    if await read_models.record_site(db, event.site, version=event.aggregate_version):
        await blocking.site_changed(db, event.site.site_id, org_id=event.site.org_id)


async def on_incident_event(db: AsyncSession, event: incidents.IncidentEvent) -> None:
    """The copy, and in the same transaction the blocked state of the lots it names now or blocked before."""
    await actor_copies.flush_known_actors(db)
    await blocking.lock_org(db, event.incident.org_id, exclusive=True)
    if await read_models.record_incident(db, event.incident, version=event.aggregate_version):
        await blocking.incident_changed(db, event.incident.incident_id, org_id=event.incident.org_id)


async def on_score_changed(db: AsyncSession, event: ScoreChanged) -> None:
    read_models.record_score(db, event)


HANDLERS: Handlers = {
    **{event_class: on_actor_event for event_class in ACTOR_EVENTS},
    **{event_class: on_site_event for event_class in SITE_EVENTS},
    **{event_class: on_incident_event for event_class in INCIDENT_EVENTS},
    ScoreChanged: on_score_changed,
}

"""Reactions of risk scores to the other services' events (and our own reviewed assessments): the read model
moves forward, then only the subjects it affects are rescored, once per transaction after its last event
(use_cases.recompute_at_commit; whoever calls these handlers runs bus.finish before committing, as the consumer
does)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import logs
from libs.common.bus import Handler, Handlers
from libs.common.db import utcnow
from libs.common.events import incidents, kyc, scoring, traceability
from services.scoring.risk import use_cases


def _event_id() -> str | None:
    """The id of the event being handled (the consumer sets it around each handler)."""
    return logs.EVENT_ID.get()


async def on_actor_event(db: AsyncSession, event: Any) -> None:
    use_cases.stage_actor(db, event.actor, version=event.aggregate_version, event_id=_event_id())


async def on_actor_updated(db: AsyncSession, event: kyc.ActorUpdated) -> None:
    version, event_id = event.aggregate_version, _event_id()
    if event.part != "licence":
        use_cases.stage_actor(db, event.actor, version=version, event_id=event_id)
        return
    affected = await use_cases.record_licence_change(
        db, event.actor, event.licence, part_id=event.part_id, action=event.action, version=version, event_id=event_id
    )
    use_cases.recompute_at_commit(db, affected)


async def on_hit_decided(db: AsyncSession, event: kyc.HitConfirmed | kyc.HitDismissed) -> None:
    affected = await use_cases.record_hit(
        db,
        event.actor,
        hit_id=event.hit_id,
        confirmed=isinstance(event, kyc.HitConfirmed),
        version=event.aggregate_version,
        event_id=_event_id(),
    )
    use_cases.recompute_at_commit(db, affected)


async def on_licence_notice(db: AsyncSession, event: kyc.LicenceExpiring | kyc.LicenceExpired) -> None:
    affected = await use_cases.record_licence(
        db,
        event.actor,
        licence_id=event.licence_id,
        valid_to=event.valid_to,
        notice="expired" if isinstance(event, kyc.LicenceExpired) else "expiring",
        removed=False,
        version=event.aggregate_version,
        event_id=_event_id(),
    )
    use_cases.recompute_at_commit(db, affected)


async def on_site_event(db: AsyncSession, event: Any) -> None:
    affected = await use_cases.record_site(db, event.site, version=event.aggregate_version, event_id=_event_id())
    use_cases.recompute_at_commit(db, affected)


async def on_incident_event(db: AsyncSession, event: incidents.IncidentEvent) -> None:
    affected = await use_cases.record_incident(
        db, event.incident, version=event.aggregate_version, event_id=_event_id()
    )
    use_cases.recompute_at_commit(db, affected)


async def on_lot_event(db: AsyncSession, event: traceability.LotEvent) -> None:
    holders = [getattr(event, name, None) for name in ("from_actor_id", "to_actor_id", "smelter_actor_id")]
    affected = await use_cases.record_lot(
        db, event.lot, version=event.aggregate_version, event_id=_event_id(), holders=holders
    )
    use_cases.recompute_at_commit(db, affected)


async def on_custody_anomaly(db: AsyncSession, event: traceability.CustodyAnomalyDetected) -> None:
    affected = await use_cases.record_anomaly(
        db,
        anomaly_id=event.anomaly_id,
        org_id=event.org_id,
        kind=event.kind,
        site_ids=event.site_ids,
        event_id=_event_id(),
    )
    use_cases.recompute_at_commit(db, affected)


async def on_assessment_reviewed(db: AsyncSession, event: scoring.AssessmentReviewed) -> None:
    # Events from before reviewed_at was sent: the time we learn of it stands in.
    affected = await use_cases.record_assessment(
        db,
        assessment_id=event.assessment_id,
        org_id=event.org_id,
        subject_type=event.subject_type,
        subject_id=event.subject_id,
        outcome=event.outcome,
        self_assessment=event.self_assessment,
        reviewed_at=event.reviewed_at or utcnow(),
        assessed_on=event.assessed_on,
        event_id=_event_id(),
    )
    use_cases.recompute_at_commit(db, affected)


ACTOR_EVENTS = (
    kyc.ActorRegistered,
    kyc.ActorSubmitted,
    kyc.ActorReviewStarted,
    kyc.ActorApproved,
    kyc.ActorRejected,
    kyc.ActorSuspended,
    kyc.ActorReinstated,
    kyc.ActorReopened,
    kyc.ActorReviewRequested,
    kyc.ScreeningCompleted,
)
SITE_EVENTS = (kyc.MineSiteRegistered, kyc.MineSiteUpdated, kyc.MineSiteStatusChanged)
INCIDENT_EVENTS = (
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
LOT_EVENTS = (
    traceability.LotCreated,
    traceability.LotTransferInitiated,
    traceability.LotMoved,
    traceability.LotConsumed,
    traceability.LotExported,
    traceability.LotReceived,
    traceability.LotBlocked,
    traceability.LotReleased,
)

_handlers: dict[type, Handler] = {
    **{e: on_actor_event for e in ACTOR_EVENTS},
    kyc.ActorUpdated: on_actor_updated,
    kyc.HitConfirmed: on_hit_decided,
    kyc.HitDismissed: on_hit_decided,
    kyc.LicenceExpiring: on_licence_notice,
    kyc.LicenceExpired: on_licence_notice,
    **{e: on_site_event for e in SITE_EVENTS},
    **{e: on_incident_event for e in INCIDENT_EVENTS},
    **{e: on_lot_event for e in LOT_EVENTS},
    traceability.CustodyAnomalyDetected: on_custody_anomaly,
    scoring.AssessmentReviewed: on_assessment_reviewed,
}
HANDLERS: Handlers = _handlers

"""The worker's reactions to the incidents service's own events: fan-out to partner webhooks."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.bus import Handlers
from libs.common.events import incidents as events
from services.incidents.webhooks import partner_topics, use_cases


async def on_incident_event(db: AsyncSession, event: events.IncidentEvent) -> None:
    await use_cases.fan_out(db, event)
    partner_topics.stage(db, event)


HANDLERS: Handlers = {
    cls: on_incident_event
    for cls in (
        events.IncidentReported,
        events.IncidentUpdated,
        events.IncidentTriaged,
        events.IncidentVerified,
        events.IncidentDismissed,
        events.IncidentEscalated,
        events.MitigationPlanned,
        events.MitigationActionUpdated,
        events.IncidentResolved,
        events.IncidentClosed,
        events.IncidentReopened,
        events.IncidentOverdue,
    )
}

"""Partner-facing Kafka topics, one per disclosure tier, fed from `incidents.events` through the outbox.

`incidents.events` is internal (Assay's services only). Partners that consume Kafka directly get a topic holding
only what their tier may see: the same projections as the webhooks (domain.member_projection, public_projection),
as CloudEvents of type `IncidentPartnerMember.v1` / `IncidentPartnerPublic.v1`, keyed by the incident id. The rows
are staged in the consumer's transaction, so a redelivered internal event (dropped by the inbox) stages nothing."""

from __future__ import annotations

import json

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db import utcnow
from libs.common.events.base import new_event_id
from libs.common.events.incidents import IncidentEvent
from libs.common.outbox import bucket_of
from libs.common.tables import OutboxMessageRow
from services.incidents.webhooks import domain

MEMBER_TOPIC = "incidents.partner.member"
PUBLIC_TOPIC = "incidents.partner.public"
TOPIC_NAMES = (MEMBER_TOPIC, PUBLIC_TOPIC)
TOPICS = {"member": (MEMBER_TOPIC, "IncidentPartnerMember.v1"), "public": (PUBLIC_TOPIC, "IncidentPartnerPublic.v1")}


def stage(db: AsyncSession, event: IncidentEvent) -> int:
    key = str(event.incident_id)
    staged = 0
    for tier, (topic, event_type) in TOPICS.items():
        data = domain.projection(tier, event)
        if data is None:
            continue
        body = {"type": domain.event_name(event), "org_id": event.org_id, "data": data}
        db.add(
            OutboxMessageRow(
                event_id=new_event_id(),
                topic=topic,
                key=key,
                event_type=event_type,
                payload=json.dumps(body, separators=(",", ":"), sort_keys=True),
                bucket=bucket_of(key),
                occurred_at=utcnow(),
            )
        )
        staged += 1
    return staged

"""Events the incidents service publishes on `incidents.events`, keyed by the incident id."""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from libs.common.events.base import Event


class IncidentEvent(Event):
    topic: ClassVar[str] = "incidents.events"
    org_id: str
    incident_id: UUID


class IncidentReported(IncidentEvent):
    category: str
    level: int
    actor_id: UUID | None = None
    site_id: UUID | None = None
    lot_id: UUID | None = None


class IncidentVerified(IncidentEvent):
    level: int


class IncidentEscalated(IncidentEvent):
    level: int
    reason: str


class IncidentClosed(IncidentEvent):
    resolution: str

"""Events the traceability service publishes on `traceability.events`, keyed by the lot id."""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from libs.common.events.base import Event


class TraceabilityEvent(Event):
    topic: ClassVar[str] = "traceability.events"
    org_id: str
    lot_id: UUID


class LotCreated(TraceabilityEvent):
    mineral: str
    mass_kg: float
    site_id: UUID | None = None
    holder_actor_id: UUID


class LotMoved(TraceabilityEvent):
    from_actor_id: UUID
    to_actor_id: UUID
    mass_kg: float


class CustodyAnomalyDetected(TraceabilityEvent):
    kind: str
    detail: str

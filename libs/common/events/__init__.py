"""Every event type on the bus, by its versioned type name."""

from __future__ import annotations

from libs.common.events import incidents, kyc, scoring, traceability
from libs.common.events.base import Envelope, Event

_MODULES = (kyc, incidents, traceability, scoring)
_ABSTRACT: set[type[Event]] = {
    kyc.KycEvent,
    incidents.IncidentEvent,
    traceability.TraceabilityEvent,
    traceability.LotEvent,
    scoring.ScoringEvent,
    scoring.AssessmentEvent,
}


def _concrete_events() -> list[type[Event]]:
    found = []
    for module in _MODULES:
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Event)
                and value not in _ABSTRACT
                and value is not Event
                and value.__module__ == module.__name__
            ):
                found.append(value)
    return found


REGISTRY: dict[str, type[Event]] = {cls.event_type(): cls for cls in _concrete_events()}
TOPICS: list[str] = sorted({cls.topic for cls in REGISTRY.values()})

__all__ = ["REGISTRY", "TOPICS", "Envelope", "Event"]

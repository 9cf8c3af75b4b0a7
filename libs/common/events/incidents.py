"""Events the incidents service publishes on `incidents.events`, keyed by the incident id.

Every event carries `aggregate_version` (one higher for each event of the incident) and `incident`, the incident's
state after the event, so a consumer's copy needs nothing else and ignores anything older. The state never holds a
whistle-blower's identity or contact, nor the reporter of any incident: those stay in the incidents service."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from libs.common.events.base import Event


class IncidentState(BaseModel):
    """An incident as the incidents service holds it after the event: what other services may keep a copy of."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    incident_id: UUID
    org_id: str
    reference: str  # human reference, e.g. INC-2026-00042
    category: str  # taxonomy code, e.g. annex2.forced_labour
    category_group: str  # taxonomy group code, e.g. annex2_serious_abuse
    level: int  # 1 (Annex II serious abuse or armed-group support) | 2 | 3
    required_response: str  # disengage | mitigate | monitor (from the category, raised by escalation)
    status: str  # reported | triage | verified | dismissed | mitigation | resolved | closed
    title: str
    summary: str  # as written by staff; for a whistle-blower report, without anything that names the reporter
    source: str  # staff | monitor | partner | whistleblower | automatic
    cause: str | None = None  # for automatic incidents: the stable key of what opened it, e.g. kyc.hit:<hit_id>
    country: str | None = None
    region: str | None = None
    mineral: str | None = None
    occurred_on: date | None = None
    place: str | None = None
    actor_ids: list[UUID] = []
    site_ids: list[UUID] = []
    lot_ids: list[UUID] = []
    resolution_reason: str | None = None  # coded, when dismissed
    outcome: str | None = None  # when closed
    verification_due_date: date | None = None
    reported_at: datetime
    updated_at: datetime


class IncidentEvent(Event):
    topic: ClassVar[str] = "incidents.events"
    org_id: str
    incident_id: UUID
    aggregate_version: int
    incident: IncidentState


class IncidentReported(IncidentEvent):
    pass


class IncidentUpdated(IncidentEvent):
    """Facts added or links changed (also when the automatic cause that opened it fires again)."""

    changed_fields: list[str] = []


class IncidentTriaged(IncidentEvent):
    pass


class IncidentVerified(IncidentEvent):
    pass


class IncidentDismissed(IncidentEvent):
    pass


class IncidentEscalated(IncidentEvent):
    previous_level: int
    reason: str


class MitigationPlanned(IncidentEvent):
    action_count: int


class MitigationActionUpdated(IncidentEvent):
    action_id: UUID
    action_status: str  # open | in_progress | done | cancelled


class IncidentResolved(IncidentEvent):
    pass


class IncidentClosed(IncidentEvent):
    pass


class IncidentReopened(IncidentEvent):
    reason: str


class IncidentOverdue(IncidentEvent):
    """A deadline passed: verification, a mitigation action, or the maximum time an incident may stay open."""

    overdue: str  # verification | action | max_open
    action_id: UUID | None = None
    due_date: date

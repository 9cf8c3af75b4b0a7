"""Events the KYC service publishes on `kyc.events`, keyed by the actor, mine site, licence or list id."""
from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar
from uuid import UUID

from libs.common.events.base import Event


class KycEvent(Event):
    topic: ClassVar[str] = "kyc.events"
    org_id: str


class ActorRegistered(KycEvent):
    actor_id: UUID
    actor_type: str
    legal_name: str
    country: str
    region: str | None = None
    smelter_facility_id: str | None = None


class ActorUpdated(KycEvent):
    actor_id: UUID
    changed_fields: list[str]


class ActorSubmitted(KycEvent):
    actor_id: UUID
    submitted_by: str


class ActorApproved(KycEvent):
    actor_id: UUID
    actor_type: str
    legal_name: str
    country: str
    risk_level: str
    approved_by: str
    next_review_date: date
    risk_table_version: int | None = None
    smelter_facility_id: str | None = None


class ActorRejected(KycEvent):
    actor_id: UUID
    rejected_by: str
    reason: str


class ActorSuspended(KycEvent):
    actor_id: UUID
    suspended_by: str
    reason: str


class ActorReinstated(KycEvent):
    actor_id: UUID
    reinstated_by: str
    reason: str


class ScreeningCompleted(KycEvent):
    subject_type: str  # actor | person
    subject_id: UUID
    actor_id: UUID
    hit_count: int
    list_snapshot_ids: list[UUID] = []


class HitConfirmed(KycEvent):
    hit_id: UUID
    actor_id: UUID
    subject_type: str
    subject_id: UUID
    list_name: str
    entry_id: str
    decided_by: str
    reason: str


class HitDismissed(KycEvent):
    hit_id: UUID
    actor_id: UUID
    subject_type: str
    subject_id: UUID
    entry_id: str
    decided_by: str
    reason: str


class LicenceExpiring(KycEvent):
    licence_id: UUID
    actor_id: UUID
    licence_type: str
    number: str
    valid_to: date


class LicenceExpired(KycEvent):
    licence_id: UUID
    actor_id: UUID
    licence_type: str
    number: str
    valid_to: date


class ReviewOverdue(KycEvent):
    actor_id: UUID
    next_review_date: date


class MineSiteRegistered(KycEvent):
    site_id: UUID
    operator_actor_id: UUID | None = None
    name: str
    country: str
    region: str | None = None
    minerals: list[str]
    capacity_kg_per_month: float | None = None
    status: str


class MineSiteStatusChanged(KycEvent):
    site_id: UUID
    previous_status: str
    status: str
    reason: str
    effective_at: datetime


class InspectionRecorded(KycEvent):
    site_id: UUID
    inspection_id: UUID
    inspection_date: date
    result: str
    agency: str


class RiskTableChanged(KycEvent):
    table_version: int
    areas: list[str]

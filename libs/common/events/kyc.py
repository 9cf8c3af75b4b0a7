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
    part: str = "actor"  # actor | person | licence: which part of the actor's file changed
    part_id: UUID | None = None
    action: str = "updated"  # updated | added | removed (of the part)
    updated_by: str | None = None


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
    region: str | None = None
    risk_factors: list[str] = []
    periodic_review: bool = False  # True when an approved actor's periodic review was completed


class ActorReviewStarted(KycEvent):
    actor_id: UUID
    reviewer: str


class ActorReopened(KycEvent):
    actor_id: UUID
    reopened_by: str
    reason: str | None = None


class ActorShared(KycEvent):
    actor_id: UUID
    grantee_org_id: str
    shared_by: str


class ActorUnshared(KycEvent):
    actor_id: UUID
    grantee_org_id: str
    unshared_by: str


class DocumentUploaded(KycEvent):
    document_id: UUID
    doc_type: str
    sha256: str
    size: int
    content_type: str
    uploaded_by: str
    actor_id: UUID | None = None
    person_id: UUID | None = None
    licence_id: UUID | None = None
    site_id: UUID | None = None
    inspection_id: UUID | None = None


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
    hit_count: int  # hits of the subject open after this screening (pending review or confirmed)
    list_snapshot_ids: list[UUID] = []
    new_hit_count: int = 0  # of which raised by this screening


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
    list_name: str | None = None


class WatchlistCreated(KycEvent):
    watchlist_id: UUID
    name: str
    format: str


class WatchlistImported(KycEvent):
    """A new snapshot of a list is in force; its added and changed entries are being re-screened."""

    watchlist_id: UUID
    snapshot_id: UUID
    snapshot_version: int
    sha256: str
    entry_count: int
    added_count: int
    changed_count: int
    removed_count: int


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
    area_risk: str | None = None  # "high" | "standard" from the risk table version below
    risk_table_version: int | None = None


class MineSiteUpdated(KycEvent):
    site_id: UUID
    changed_fields: list[str]
    operator_actor_id: UUID | None = None
    name: str
    country: str
    region: str | None = None
    minerals: list[str]
    capacity_kg_per_month: float | None = None


class MineSiteStatusChanged(KycEvent):
    site_id: UUID
    previous_status: str
    status: str
    reason: str  # inspection | green_lapsed | blue_expired
    effective_at: datetime
    inspection_id: UUID | None = None
    risk_table_version: int | None = None


class InspectionRecorded(KycEvent):
    site_id: UUID
    inspection_id: UUID
    inspection_date: date
    result: str
    agency: str
    inspector: str | None = None
    report_document_id: UUID | None = None


class RiskTableChanged(KycEvent):
    table_version: int
    areas: list[str]

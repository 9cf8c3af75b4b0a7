"""Events the KYC service publishes on `kyc.events`, keyed by the actor, mine site, licence or list id.

Every event carries `aggregate_version`: the version of the aggregate it is keyed by, one higher for each event of
that key, so a consumer's copy keeps the highest it applied and ignores anything older. Events keyed by an actor
carry `actor`, the actor's public state after the event; site events carry `site`. A copy needs nothing else."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from libs.common.events.base import Event


class ActorState(BaseModel):
    """An actor as KYC's register holds it after the event: what other services may keep a copy of."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    actor_id: UUID
    org_id: str
    actor_type: str
    legal_name: str
    registration_number: str | None = None
    country: str
    region: str | None = None
    minerals: list[str] = []
    smelter_facility_id: str | None = None
    kyc_status: str  # draft | submitted | under_review | approved | rejected | suspended
    risk_level: str | None = None
    risk_factors: list[str] = []
    next_review_date: date | None = None
    review_reason: str | None = None  # why a review is due before its date (material_change), until it completes
    shared_with: list[str] = []  # ids of the organisations the owner shares the actor with, sorted


class LicenceState(BaseModel):
    """A licence or permit of an actor as the register holds it after the event."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    licence_id: UUID
    licence_type: str
    issuer: str
    number: str
    valid_from: date
    valid_to: date | None = None


class MineSiteState(BaseModel):
    """A mine site as the register holds it after the event (its recorded status, lapses applied by the job)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    site_id: UUID
    org_id: str
    name: str
    operator_actor_id: UUID | None = None
    country: str
    region: str | None = None
    minerals: list[str] = []
    capacity_kg_per_month: float | None = None
    status: str  # green | yellow | red | blue
    status_since_date: date
    area_risk: str | None = None  # "high" | "standard" from the risk table version below
    risk_table_version: int | None = None
    # A representative point of the site's GeoJSON location (the point itself, or one inside the polygon), WGS 84;
    # None in events published before it was added.
    latitude: float | None = None
    longitude: float | None = None


class KycEvent(Event):
    topic: ClassVar[str] = "kyc.events"
    org_id: str
    aggregate_version: int  # of the aggregate the event is keyed by; one higher for each event of that key


class ActorRegistered(KycEvent):
    actor_id: UUID
    actor: ActorState


class ActorUpdated(KycEvent):
    actor_id: UUID
    actor: ActorState
    changed_fields: list[str]
    part: str = "actor"  # actor | person | licence: which part of the actor's file changed
    part_id: UUID | None = None
    action: str = "updated"  # updated | added | removed (of the part)
    updated_by: str | None = None
    licence: LicenceState | None = None  # the licence after the change, when part is licence


class ActorSubmitted(KycEvent):
    actor_id: UUID
    actor: ActorState
    submitted_by: str


class ActorApproved(KycEvent):
    actor_id: UUID
    actor: ActorState  # with the risk level, its factors and the next review date just decided
    approved_by: str
    risk_table_version: int | None = None
    periodic_review: bool = False  # True when an approved actor's periodic review was completed


class ActorReviewRequested(KycEvent):
    """A material change to an approved (or suspended) actor: its review is due now (`next_review_date`, today)."""

    actor_id: UUID
    actor: ActorState
    reason: str  # material_change (an edit of the approved file) | risk_raised (a new risk table)
    changed_fields: list[str]  # the actor's fields, or person.<field> for its owners and key persons
    previous_review_date: date | None = None
    next_review_date: date
    requested_by: str


class ActorReviewStarted(KycEvent):
    actor_id: UUID
    actor: ActorState
    reviewer: str


class ActorReopened(KycEvent):
    actor_id: UUID
    actor: ActorState
    reopened_by: str
    reason: str | None = None


class ActorShared(KycEvent):
    actor_id: UUID
    actor: ActorState
    grantee_org_id: str
    shared_by: str


class ActorUnshared(KycEvent):
    actor_id: UUID
    actor: ActorState
    grantee_org_id: str
    unshared_by: str


class DocumentUploaded(KycEvent):
    """Keyed by the actor, else the site, else the document; `aggregate_version` is that aggregate's."""

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
    actor: ActorState
    rejected_by: str
    reason: str


class ActorSuspended(KycEvent):
    actor_id: UUID
    actor: ActorState
    suspended_by: str
    reason: str


class ActorReinstated(KycEvent):
    actor_id: UUID
    actor: ActorState
    reinstated_by: str
    reason: str


class ScreeningCompleted(KycEvent):
    subject_type: str  # actor | person
    subject_id: UUID
    actor_id: UUID
    actor: ActorState
    hit_count: int  # hits of the subject open after this screening (pending review or confirmed)
    list_snapshot_ids: list[UUID] = []
    new_hit_count: int = 0  # of which raised by this screening


class HitConfirmed(KycEvent):
    hit_id: UUID
    actor_id: UUID
    actor: ActorState
    subject_type: str
    subject_id: UUID
    list_name: str
    entry_id: str
    decided_by: str
    reason: str


class HitDismissed(KycEvent):
    hit_id: UUID
    actor_id: UUID
    actor: ActorState
    subject_type: str
    subject_id: UUID
    entry_id: str
    decided_by: str
    reason: str
    list_name: str | None = None


class WatchlistCreated(KycEvent):
    """`aggregate_version` is the list's snapshot version: 0 until the first import."""

    watchlist_id: UUID
    name: str
    format: str


class WatchlistImported(KycEvent):
    """A new snapshot of a list is in force; its added and changed entries are being re-screened.
    `aggregate_version` is `snapshot_version`."""

    watchlist_id: UUID
    name: str
    format: str
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
    actor: ActorState
    licence_type: str
    number: str
    valid_to: date


class LicenceExpired(KycEvent):
    licence_id: UUID
    actor_id: UUID
    actor: ActorState
    licence_type: str
    number: str
    valid_to: date


class ReviewOverdue(KycEvent):
    actor_id: UUID
    actor: ActorState
    next_review_date: date


class MineSiteRegistered(KycEvent):
    site_id: UUID
    site: MineSiteState


class MineSiteUpdated(KycEvent):
    site_id: UUID
    site: MineSiteState
    changed_fields: list[str]


class MineSiteStatusChanged(KycEvent):
    site_id: UUID
    site: MineSiteState  # status is the one this change made, even when later lapses follow in the same step
    previous_status: str
    status: str
    reason: str  # inspection | green_lapsed | blue_expired
    effective_at: datetime
    inspection_id: UUID | None = None
    risk_table_version: int | None = None


class InspectionRecorded(KycEvent):
    site_id: UUID
    site: MineSiteState  # before the status decisions the inspection causes (they follow as their own events)
    inspection_id: UUID
    inspection_date: date
    result: str
    agency: str
    inspector: str | None = None
    report_document_id: UUID | None = None


class RiskTableChanged(KycEvent):
    """Keyed by the organisation; `aggregate_version` is `table_version`, and `areas` the whole table."""

    table_version: int
    areas: list[str]

"""The actor: one upstream actor of an operator's register, with its workflow and the parts of its file (persons,
licences, shares). Each method checks the rules, changes the actor (or the part it is given) and returns the event
that tells what happened, keyed by the actor and carrying its state after the change."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar
from uuid import UUID, uuid4

from libs.common.errors import Invalid, NotFound
from libs.common.events.kyc import (
    ActorApproved,
    ActorRegistered,
    ActorReinstated,
    ActorRejected,
    ActorReopened,
    ActorReviewRequested,
    ActorReviewStarted,
    ActorShared,
    ActorState,
    ActorSubmitted,
    ActorSuspended,
    ActorUnshared,
    ActorUpdated,
    KycEvent,
    LicenceExpired,
    LicenceExpiring,
    ReviewOverdue,
    ScreeningCompleted,
)
from services.kyc.domain import review
from services.kyc.domain.actors import fields as rules
from services.kyc.domain.documents import Document
from services.kyc.domain.history import created, diff, removed
from services.kyc.domain.licences import EXPIRED, EXPIRING, Licence
from services.kyc.domain.persons import Person
from services.kyc.domain.review import RiskAssessment
from services.kyc.domain.screening import ScreenedSubject, ScreeningGate
from services.kyc.domain.versioned import UNNUMBERED, Versioned
from services.kyc.domain.workflow import (
    REVIEWED,
    Status,
    check_editable,
    check_four_eyes,
    next_status,
)

# The workflow's part of the file; the history keeps it beside the edited fields.
STATE_FIELDS = (
    "kyc_status",
    "submitted_by",
    "submitted_at",
    "approved_by",
    "approved_at",
    "risk_level",
    "risk_factors",
    "risk_table_version",
    "next_review_date",
    "review_reason",
    "review_requested_fields",
)
AUDITED_FIELDS = (*rules.EDITABLE_FIELDS, *STATE_FIELDS)
MATERIAL_CHANGE = "material_change"  # the review_reason of a material change to an approved file
RISK_RAISED = "risk_raised"  # the review_reason when a new risk table raises an approved actor's risk level


@dataclass(frozen=True)
class Share:
    """The owning operator lets another organisation read one actor (and its licences)."""

    actor_id: UUID
    grantee_org_id: str
    org_id: str
    granted_by: str
    granted_at: datetime


@dataclass
class Actor(Versioned):
    noun: ClassVar[str] = "actor"

    id: UUID
    org_id: str
    actor_type: str
    legal_name: str
    country: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    aliases: list[str] = field(default_factory=list)
    registration_number: str | None = None
    tax_number: str | None = None
    region: str | None = None
    addresses: list[dict[str, Any]] = field(default_factory=list)
    contacts: list[dict[str, Any]] = field(default_factory=list)
    minerals: list[str] = field(default_factory=list)
    smelter_facility_id: str | None = None
    kyc_status: Status = Status.DRAFT
    risk_level: str | None = None
    risk_factors: list[str] = field(default_factory=list)
    risk_table_version: int | None = None
    submitted_by: str | None = None
    submitted_at: datetime | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    next_review_date: date | None = None
    overdue_notified_for: date | None = None  # the review date a ReviewOverdue was sent for
    # Why a review is due before its date (a material change of the approved file), until a review completes.
    review_reason: str | None = None
    review_requested_fields: list[str] = field(default_factory=list)
    review_requested_at: datetime | None = None
    version: int = 1
    shared_with: list[str] = field(default_factory=list)  # ids of the organisations it is shared with, sorted

    @classmethod
    def register(
        cls, values: Mapping[str, Any], *, org_id: str, by: str, now: datetime
    ) -> tuple[Actor, ActorRegistered]:
        """A new actor of the caller's register, as a draft."""
        clean = rules.normalise(dict(values))
        actor = cls(
            id=uuid4(),
            org_id=org_id,
            created_by=by,
            created_at=now,
            updated_at=now,
            **{name: clean[name] for name in rules.EDITABLE_FIELDS},
        )
        return actor, ActorRegistered(**actor.event_fields())

    def state(self) -> ActorState:
        """The actor as other services may keep a copy of it."""
        return ActorState(
            actor_id=self.id,
            org_id=self.org_id,
            actor_type=self.actor_type,
            legal_name=self.legal_name,
            registration_number=self.registration_number,
            country=self.country,
            region=self.region,
            minerals=list(self.minerals),
            smelter_facility_id=self.smelter_facility_id,
            kyc_status=self.kyc_status,
            risk_level=self.risk_level,
            risk_factors=list(self.risk_factors),
            next_review_date=self.next_review_date,
            review_reason=self.review_reason,
            shared_with=list(self.shared_with),
        )

    def event_fields(self) -> dict[str, Any]:
        """What every event keyed by the actor carries; the use case numbers it when the actor is saved."""
        return {"org_id": self.org_id, "actor_id": self.id, "aggregate_version": UNNUMBERED, "actor": self.state()}

    def editable(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in rules.EDITABLE_FIELDS}

    def audited(self) -> dict[str, Any]:
        """What the history compares before and after a change."""
        return {name: getattr(self, name) for name in AUDITED_FIELDS}

    def update(self, changes: Mapping[str, Any], *, by: str, now: datetime) -> list[KycEvent]:
        """Change the fields given: ActorUpdated, then ActorReviewRequested when the change is material to an
        approved file (rules.MATERIAL_FIELDS); nothing when they hold what the actor holds (not even the version
        moves)."""
        check_editable(self.kyc_status)
        before = self.editable()
        clean = rules.normalise({**before, **changes})
        changed = set(diff(before, {name: clean[name] for name in rules.EDITABLE_FIELDS}))
        if not changed:
            return []
        for name in changed:
            setattr(self, name, clean[name])
        material = sorted(set(rules.MATERIAL_FIELDS) & changed)
        review = self._request_review(MATERIAL_CHANGE, material, by=by, now=now) if material else None
        self.touch(now)
        updated = ActorUpdated(**self.event_fields(), changed_fields=sorted(changed), updated_by=by)
        return [updated, review] if review is not None else [updated]

    # The review workflow (domain/workflow.py has the moves).

    def submit(self, *, by: str, now: datetime) -> ActorSubmitted:
        self._move("submit", now)
        self.submitted_by, self.submitted_at = by, now
        return ActorSubmitted(**self.event_fields(), submitted_by=by)

    def start_review(self, *, by: str, now: datetime) -> ActorReviewStarted:
        self._move("start_review", now)
        return ActorReviewStarted(**self.event_fields(), reviewer=by)

    def approve(
        self,
        *,
        by: str,
        assessment: RiskAssessment,
        screening: ScreeningGate,
        review_months: Mapping[str, int],
        now: datetime,
    ) -> ActorApproved:
        """Four eyes, no blocking hit, no pending screening; then the risk level and the next review date."""
        return self._approve(
            "approve", by=by, assessment=assessment, screening=screening, review_months=review_months, now=now
        )

    def complete_review(
        self,
        *,
        by: str,
        assessment: RiskAssessment,
        screening: ScreeningGate,
        review_months: Mapping[str, int],
        now: datetime,
    ) -> ActorApproved:
        """The periodic review of an approved actor: the approval checks again, a fresh risk level and date."""
        return self._approve(
            "complete_review", by=by, assessment=assessment, screening=screening, review_months=review_months, now=now
        )

    def reject(self, *, by: str, reason: str, now: datetime) -> ActorRejected:
        self._move("reject", now)
        return ActorRejected(**self.event_fields(), rejected_by=by, reason=reason)

    def suspend(self, *, by: str, reason: str, now: datetime) -> ActorSuspended:
        self._move("suspend", now)
        return ActorSuspended(**self.event_fields(), suspended_by=by, reason=reason)

    def reinstate(self, *, by: str, reason: str, screening: ScreeningGate, now: datetime) -> ActorReinstated:
        """Back to approved, keeping its review date, once screening is clear again."""
        next_status(self.kyc_status, "reinstate")
        screening.check_clear()
        self._move("reinstate", now)
        return ActorReinstated(**self.event_fields(), reinstated_by=by, reason=reason)

    def reopen(self, *, by: str, reason: str | None, now: datetime) -> ActorReopened:
        """A rejected actor back to draft, to be corrected and submitted again (by whoever submits next)."""
        self._move("reopen", now)
        self.submitted_by = self.submitted_at = None
        return ActorReopened(**self.event_fields(), reopened_by=by, reason=reason)

    def _move(self, action: str, now: datetime) -> None:
        self.kyc_status = next_status(self.kyc_status, action)
        self.touch(now)

    def _approve(
        self,
        action: str,
        *,
        by: str,
        assessment: RiskAssessment,
        screening: ScreeningGate,
        review_months: Mapping[str, int],
        now: datetime,
    ) -> ActorApproved:
        next_status(self.kyc_status, action)
        check_four_eyes(submitted_by=self.submitted_by, decided_by=by)
        screening.check_clear()
        self._move(action, now)
        self.risk_level, self.risk_factors = assessment.level, list(assessment.factors)
        self.risk_table_version = assessment.table_version
        self.approved_by, self.approved_at = by, now
        self.next_review_date = review.next_review_date(now.date(), assessment.level, review_months)
        self.review_reason, self.review_requested_fields, self.review_requested_at = None, [], None
        return ActorApproved(
            **self.event_fields(),
            approved_by=by,
            risk_table_version=self.risk_table_version,
            periodic_review=action == "complete_review",
        )

    def reassess_risk(self, assessment: RiskAssessment, *, by: str, now: datetime) -> list[KycEvent]:
        """The risk table in force changed the area risk of an approved (or suspended) actor: the risk level,
        its factors and the table version follow (ActorUpdated); a higher level also requests a review, due today
        (ActorReviewRequested, reason risk_raised). A lower level keeps the review date. Nothing for an actor not
        yet assessed, or when the assessment is what the actor holds."""
        if self.kyc_status not in REVIEWED or self.risk_level is None:
            return []
        before = {"risk_level": self.risk_level, "risk_factors": list(self.risk_factors)}
        after = {"risk_level": assessment.level, "risk_factors": list(assessment.factors)}
        if before == after:
            return []
        raised = review.LEVELS.index(assessment.level) > review.LEVELS.index(self.risk_level)
        self.risk_level, self.risk_factors = assessment.level, list(assessment.factors)
        self.risk_table_version = assessment.table_version
        changed = sorted({*diff(before, after), "risk_table_version"})
        requested = self._request_review(RISK_RAISED, ["risk_level"], by=by, now=now) if raised else None
        self.touch(now)
        updated = ActorUpdated(**self.event_fields(), changed_fields=changed, updated_by=by)
        return [updated, requested] if requested is not None else [updated]

    def _request_review(self, reason: str, fields: list[str], *, by: str, now: datetime) -> ActorReviewRequested | None:
        """A material change to an approved (or suspended) actor makes its review due today, says why (the reason
        and the fields, gathered until a review completes) and is announced; the actor keeps its status: the
        change is not a finding, suspension stays a decision of its own. None for a file not yet approved."""
        if self.kyc_status not in REVIEWED:
            return None
        previous = self.next_review_date
        due = now.date() if previous is None or previous > now.date() else previous
        self.next_review_date = due
        self.review_reason = reason
        self.review_requested_fields = sorted({*self.review_requested_fields, *fields})
        self.review_requested_at = self.review_requested_at or now
        return ActorReviewRequested(
            **self.event_fields(),
            reason=reason,
            changed_fields=fields,
            previous_review_date=previous,
            next_review_date=due,
            requested_by=by,
        )

    # The parts of the file: persons and licences, told as changes of the actor.

    def add_person(
        self, values: Mapping[str, Any], *, others: list[Person], by: str, now: datetime
    ) -> tuple[Person, list[KycEvent]]:
        check_editable(self.kyc_status)
        person = Person.new(values, org_id=self.org_id, actor_id=self.id, others=others, now=now)
        return person, self._person_changed(person, "added", created(person.editable()), by=by, now=now)

    def update_person(
        self, person: Person, changes: Mapping[str, Any], *, others: list[Person], by: str, now: datetime
    ) -> list[KycEvent]:
        check_editable(self.kyc_status)
        changed = person.update(changes, others=others, now=now)
        return self._person_changed(person, "updated", changed, by=by, now=now) if changed else []

    def remove_person(self, person: Person, *, by: str, now: datetime) -> list[KycEvent]:
        check_editable(self.kyc_status)
        return self._person_changed(person, "removed", removed(person.editable()), by=by, now=now)

    def _person_changed(
        self, person: Person, action: str, changes: Mapping[str, Any], *, by: str, now: datetime
    ) -> list[KycEvent]:
        """ActorUpdated for the person; a change of the owners and key persons of an approved file is material,
        so ActorReviewRequested follows (the fields named person.<field>)."""
        review = self._request_review(MATERIAL_CHANGE, [f"person.{name}" for name in sorted(changes)], by=by, now=now)
        if review is not None:
            self.touch(now)
        updated = ActorUpdated(
            **self.event_fields(),
            changed_fields=sorted(changes),
            part="person",
            part_id=person.id,
            action=action,
            updated_by=by,
        )
        return [updated, review] if review is not None else [updated]

    def add_licence(
        self, values: Mapping[str, Any], *, by: str, now: datetime, document: Document | None = None
    ) -> tuple[Licence, ActorUpdated]:
        """A licence or permit, with an uploaded document attached when given."""
        licence = Licence.new(values, org_id=self.org_id, actor_id=self.id, now=now)
        changed = set(created(licence.editable()))
        if document is not None:
            document.file_under_licence(licence)
            changed.add("document_id")
        return licence, self._licence_changed(licence, "added", changed, by=by)

    def update_licence(
        self, licence: Licence, changes: Mapping[str, Any], *, by: str, now: datetime
    ) -> ActorUpdated | None:
        changed = licence.update(changes, now=now)
        return self._licence_changed(licence, "updated", set(changed), by=by) if changed else None

    def _licence_changed(self, licence: Licence, action: str, changed: set[str], *, by: str) -> ActorUpdated:
        return ActorUpdated(
            **self.event_fields(),
            changed_fields=sorted(changed),
            part="licence",
            part_id=licence.id,
            action=action,
            updated_by=by,
            licence=licence.state(),
        )

    # Sharing with other organisations.

    def share_with(self, org_id: str, *, by: str, now: datetime) -> tuple[Share, ActorShared] | None:
        """None when the actor is shared with that organisation already (sharing is idempotent)."""
        grantee = org_id.strip()
        if not grantee or grantee == self.org_id:
            raise Invalid("share with another organisation's id", code="invalid_share_target")
        if grantee in self.shared_with:
            return None
        self.shared_with = sorted([*self.shared_with, grantee])
        share = Share(actor_id=self.id, grantee_org_id=grantee, org_id=self.org_id, granted_by=by, granted_at=now)
        return share, ActorShared(**self.event_fields(), grantee_org_id=grantee, shared_by=by)

    def unshare(self, org_id: str, *, by: str) -> ActorUnshared:
        if org_id not in self.shared_with:
            raise NotFound(f"actor {self.id} is not shared with {org_id}", code="share_not_found")
        self.shared_with = [grantee for grantee in self.shared_with if grantee != org_id]
        return ActorUnshared(**self.event_fields(), grantee_org_id=org_id, unshared_by=by)

    # What the scheduled jobs tell, each once.

    def announce_licence_expiring(self, licence: Licence, *, now: datetime) -> LicenceExpiring:
        licence.expiring_notified_at = now
        return LicenceExpiring(**self._licence_fields(licence))

    def announce_licence_expired(self, licence: Licence, *, now: datetime) -> LicenceExpired:
        licence.expired_notified_at = now
        return LicenceExpired(**self._licence_fields(licence))

    def announce_licence_due(self, licence: Licence, *, lead_days: int, now: datetime) -> list[KycEvent]:
        """The expiry notice the licence is owed now (none, LicenceExpiring or LicenceExpired), given when the
        licence is recorded or corrected: the job would otherwise tell it only at its next run."""
        due = licence.notice_due(now.date(), lead_days=lead_days)
        if due == EXPIRED:
            return [self.announce_licence_expired(licence, now=now)]
        if due == EXPIRING:
            return [self.announce_licence_expiring(licence, now=now)]
        return []

    def _licence_fields(self, licence: Licence) -> dict[str, Any]:
        return {
            **self.event_fields(),
            "licence_id": licence.id,
            "licence_type": licence.licence_type,
            "number": licence.number,
            "valid_to": licence.valid_to,
        }

    def announce_review_overdue(self) -> ReviewOverdue:
        self.overdue_notified_for = self.next_review_date
        return ReviewOverdue(**self.event_fields(), next_review_date=self.next_review_date)

    def screened(
        self, subject: ScreenedSubject, *, open_hits: int, raised: int, snapshot_ids: list[UUID]
    ) -> ScreeningCompleted:
        """A screening of the actor or one of its persons ran."""
        return ScreeningCompleted(
            **self.event_fields(),
            subject_type=subject.subject_type,
            subject_id=subject.subject_id,
            hit_count=open_hits,
            new_hit_count=raised,
            list_snapshot_ids=snapshot_ids,
        )

"""Screening rules: which subject the engine sees, when a match becomes a hit, and analysts' decisions on hits."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID, uuid4

from libs.common.errors import Conflict, Invalid
from libs.common.events.kyc import HitConfirmed, HitDismissed
from services.kyc.screening.matcher import Match, Subject

if TYPE_CHECKING:
    from services.kyc.domain.actors import Actor

SUBJECT_TYPES = ("actor", "person")
SNAPSHOT = "snapshot"  # a screening request for the changed entries of one list snapshot


class HitStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


class Triage(StrEnum):
    """What a match does given the earlier hits on the same (subject, entry) pair."""

    RAISE = "raise"  # a new pending hit
    REFRESH = "refresh"  # the pending hit gets the new score and explanation
    KNOWN = "known"  # already confirmed as a true match
    SUPPRESSED = "suppressed"  # dismissed as a false positive, and neither side changed since


@dataclass(frozen=True)
class ScreenedSubject:
    """A subject as the job screens it: who it belongs to, and what the engine compares."""

    subject_type: str
    subject_id: UUID
    actor_id: UUID
    org_id: str
    subject: Subject

    @property
    def fingerprint(self) -> str:
        return subject_fingerprint(self.subject)


class HitState(Protocol):
    status: str
    entry_fingerprint: str
    subject_fingerprint: str
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None


@dataclass(frozen=True)
class EntryFacts:
    """A live list entry as the triage sees it: its fingerprint and the list version that last changed it."""

    fingerprint: str
    version: int


def actor_subject(
    *, legal_name: str, aliases: list[str], country: str, registration_number: str | None, tax_number: str | None
) -> Subject:
    identifiers = tuple(i for i in (registration_number, tax_number) if i)
    return Subject(
        name=legal_name, aliases=tuple(aliases), kind="organization", countries=(country,), identifiers=identifiers
    )


def person_subject(
    *,
    person_type: str,
    full_name: str,
    aliases: list[str],
    birth_date: date | None,
    nationality: str | None,
    identifiers: list[str],
) -> Subject:
    return Subject(
        name=full_name,
        aliases=tuple(aliases),
        kind="person" if person_type == "natural" else "organization",
        birth_date=birth_date.isoformat() if birth_date else None,
        countries=(nationality,) if nationality else (),
        identifiers=tuple(identifiers),
    )


def subject_fingerprint(subject: Subject) -> str:
    """Equal iff every screened field is equal (alias order does not count)."""
    fields = asdict(subject)
    for name in ("aliases", "countries", "identifiers"):
        fields[name] = sorted(fields[name])
    text = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def triage(earlier: list[HitState], *, entry_fingerprint: str, subject_fingerprint: str) -> Triage:
    """A false positive is not raised again until the list entry or the subject changes."""
    statuses = {h.status for h in earlier}
    if HitStatus.PENDING in statuses:
        return Triage.REFRESH
    if HitStatus.CONFIRMED in statuses:
        return Triage.KNOWN
    if any(h.entry_fingerprint == entry_fingerprint and h.subject_fingerprint == subject_fingerprint for h in earlier):
        return Triage.SUPPRESSED
    return Triage.RAISE


def subject_fields(subject: Subject) -> dict[str, Any]:
    """What the engine compared, as a hit keeps it: a later hit of the pair names the fields that changed."""
    fields = asdict(subject)
    for name in ("aliases", "countries", "identifiers"):
        fields[name] = sorted(fields[name])
    return fields


def why_reraised(
    earlier: list[Hit], *, subject: Mapping[str, Any], subject_fingerprint: str, entry: EntryFacts
) -> dict[str, Any] | None:
    """Why a pair dismissed before is raised again (None when it never was): the latest dismissal's id, who made
    it and when, and what changed since: fields of the subject (before and after, when the dismissed hit kept
    them), and the list entry (the list version that changed it, and the one the dismissal was made against)."""
    dismissed = [h for h in earlier if h.status == HitStatus.DISMISSED]
    if not dismissed:
        return None
    last = max(dismissed, key=lambda h: (h.decided_at or h.created_at, h.created_at))
    changes: list[dict[str, Any]] = []
    if last.subject_fingerprint != subject_fingerprint:
        changes.extend(_subject_changes(last.subject_fields, subject))
    if last.entry_fingerprint != entry.fingerprint:
        changes.append(
            {"kind": "entry_changed", "list_version_before": last.entry_version, "list_version_after": entry.version}
        )
    return {
        "previous_hit_id": str(last.id),
        "dismissed_by": last.decided_by,
        "dismissed_at": last.decided_at.isoformat() if last.decided_at else None,
        "dismissal_reason": last.reason,
        "changes": changes,
        "summary": "; ".join(_said(change) for change in changes),
    }


def _subject_changes(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[dict[str, Any]]:
    if not before:  # a hit dismissed before the fields were kept: the fingerprint says only that something changed
        return [{"kind": "subject_changed", "field": None, "before": None, "after": None}]
    return [
        {"kind": "subject_changed", "field": name, "before": before.get(name), "after": after.get(name)}
        for name in sorted(after)
        if before.get(name) != after.get(name)
    ]


def _said(change: Mapping[str, Any]) -> str:
    if change["kind"] == "entry_changed":
        before = change["list_version_before"]
        return f"list entry changed in list version {change['list_version_after']}" + (
            f" (dismissed against version {before})" if before is not None else ""
        )
    if change["field"] is None:
        return "subject changed"
    return f"subject {change['field']} changed from {change['before']!r} to {change['after']!r}"


def decide(hit: HitState, status: HitStatus, *, user_id: str, reason: str, now: datetime) -> None:
    """Record an analyst's decision once; a second decision is a conflict."""
    if hit.status != HitStatus.PENDING:
        raise Conflict(f"the hit was already {hit.status}", code="hit_already_decided")
    if not reason.strip():
        raise Invalid("a reason is required", code="reason_required")
    hit.status, hit.decided_by, hit.decided_at, hit.reason = status, user_id, now, reason.strip()


@dataclass(frozen=True)
class ScreeningGate:
    """What screening says about approving (or reinstating) an actor: hits of it or its persons that are pending
    review or confirmed, and screenings of them not yet run."""

    blocking_hits: int
    pending_screenings: int

    def check_clear(self) -> None:
        if self.blocking_hits > 0:
            raise Conflict(
                f"{self.blocking_hits} screening hit(s) of this actor or its persons are open or confirmed",
                code="open_hits",
                hits=self.blocking_hits,
            )
        if self.pending_screenings > 0:
            raise Conflict(
                f"{self.pending_screenings} screening(s) of this actor or its persons have not run yet",
                code="screening_pending",
                pending=self.pending_screenings,
            )


@dataclass
class ScreeningRequest:
    """Work for the screening job: one subject (actor or person) to screen against every current entry, or one
    new snapshot (subject_type "snapshot") whose changed entries every subject of the organisation meets."""

    org_id: str
    subject_type: str
    subject_id: UUID
    requested_at: datetime
    actor_id: UUID | None = None
    status: str = "pending"
    completed_at: datetime | None = None
    hit_count: int | None = None
    id: UUID = field(default_factory=uuid4)

    @classmethod
    def of_subject(
        cls, *, org_id: str, actor_id: UUID, subject_type: str, subject_id: UUID, now: datetime
    ) -> ScreeningRequest:
        if subject_type not in SUBJECT_TYPES:
            raise ValueError(f"subject_type must be one of {SUBJECT_TYPES}, not {subject_type!r}")
        return cls(org_id=org_id, actor_id=actor_id, subject_type=subject_type, subject_id=subject_id, requested_at=now)

    def complete(self, *, hit_count: int, now: datetime) -> None:
        self.status, self.completed_at, self.hit_count = "done", now, hit_count


@dataclass
class Hit:
    """A possible match between a subject and a list entry, waiting for (or carrying) an analyst's decision."""

    org_id: str
    actor_id: UUID
    subject_type: str
    subject_id: UUID
    subject_name: str
    watchlist_id: UUID
    entry_id: str
    entry_fingerprint: str
    subject_fingerprint: str
    score: float
    matched_name: str
    created_at: datetime
    explanation: list[str] = field(default_factory=list)
    entry_removed: bool = False
    status: str = HitStatus.PENDING
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None
    watchlist_name: str = ""  # of the list the entry is on, read with the hit
    subject_fields: dict[str, Any] | None = None  # what was screened (None on hits older than this field)
    entry_version: int | None = None  # the list version that last changed the entry
    reraised_because: dict[str, Any] | None = None  # why_reraised: set when a dismissed pair comes back
    id: UUID = field(default_factory=uuid4)

    @classmethod
    def new(
        cls,
        subject: ScreenedSubject,
        key: tuple[UUID, str],
        match: Match,
        now: datetime,
        *,
        entry: EntryFacts,
        earlier: list[Hit] | None = None,
    ) -> Hit:
        """A hit raised by a match of `subject` with the entry `key` (watchlist id, entry id), pending review;
        `earlier` hits of the pair (all dismissed, or triage would not raise) say why it is raised again."""
        fields = subject_fields(subject.subject)
        hit = cls(
            org_id=subject.org_id,
            actor_id=subject.actor_id,
            subject_type=subject.subject_type,
            subject_id=subject.subject_id,
            subject_name="",
            watchlist_id=key[0],
            entry_id=key[1],
            entry_fingerprint=entry.fingerprint,
            subject_fingerprint=subject.fingerprint,
            score=0.0,
            matched_name="",
            created_at=now,
            subject_fields=fields,
            entry_version=entry.version,
            reraised_because=why_reraised(
                earlier or [], subject=fields, subject_fingerprint=subject.fingerprint, entry=entry
            ),
        )
        hit.refresh(match, entry_fingerprint=entry.fingerprint, subject_fingerprint=subject.fingerprint)
        return hit

    def refresh(
        self,
        match: Match,
        *,
        entry_fingerprint: str,
        subject_fingerprint: str,
        subject: ScreenedSubject | None = None,
        entry_version: int | None = None,
    ) -> None:
        """A pending hit found again takes the new score and explanation (and what was screened, when given)."""
        if subject is not None:
            self.subject_fields = subject_fields(subject.subject)
        if entry_version is not None:
            self.entry_version = entry_version
        self.score, self.matched_name, self.subject_name = (
            match.score,
            match.matched_name[:500],
            match.subject_name[:300],
        )
        self.explanation, self.entry_removed = list(match.explanation), False
        self.entry_fingerprint, self.subject_fingerprint = entry_fingerprint, subject_fingerprint

    def confirm(self, *, actor: Actor, by: str, reason: str, now: datetime) -> HitConfirmed:
        """A true match: the hit keeps blocking the actor's approval."""
        decide(self, HitStatus.CONFIRMED, user_id=by, reason=reason, now=now)
        return HitConfirmed(**self._told(actor), list_name=self.watchlist_name)

    def dismiss(self, *, actor: Actor, by: str, reason: str, now: datetime) -> HitDismissed:
        """A false positive: not raised again until the list entry or the subject changes."""
        decide(self, HitStatus.DISMISSED, user_id=by, reason=reason, now=now)
        return HitDismissed(**self._told(actor), list_name=self.watchlist_name)

    def _told(self, actor: Actor) -> dict[str, object]:
        return {
            **actor.event_fields(),
            "hit_id": self.id,
            "subject_type": self.subject_type,
            "subject_id": self.subject_id,
            "entry_id": self.entry_id,
            "decided_by": self.decided_by,
            "reason": self.reason or "",
        }

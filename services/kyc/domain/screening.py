"""Screening rules: which subject the engine sees, when a match becomes a hit, and analysts' decisions on hits."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from libs.common.errors import Conflict, Invalid
from services.kyc.screening.matcher import Subject

SUBJECT_TYPES = ("actor", "person")
SNAPSHOT = "snapshot"  # a screening request for the changed entries of one list snapshot


class HitStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


class Triage(StrEnum):
    """What a match does given the earlier hits on the same (subject, entry) pair."""

    RAISE = "raise"          # a new pending hit
    REFRESH = "refresh"      # the pending hit gets the new score and explanation
    KNOWN = "known"          # already confirmed as a true match
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


def actor_subject(*, legal_name: str, aliases: list[str], country: str, registration_number: str | None,
                  tax_number: str | None) -> Subject:
    identifiers = tuple(i for i in (registration_number, tax_number) if i)
    return Subject(name=legal_name, aliases=tuple(aliases), kind="organization", countries=(country,),
                   identifiers=identifiers)


def person_subject(*, person_type: str, full_name: str, aliases: list[str], birth_date: date | None,
                   nationality: str | None, identifiers: list[str]) -> Subject:
    return Subject(name=full_name, aliases=tuple(aliases),
                   kind="person" if person_type == "natural" else "organization",
                   birth_date=birth_date.isoformat() if birth_date else None,
                   countries=(nationality,) if nationality else (), identifiers=tuple(identifiers))


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
    if any(h.entry_fingerprint == entry_fingerprint and h.subject_fingerprint == subject_fingerprint
           for h in earlier):
        return Triage.SUPPRESSED
    return Triage.RAISE


def decide(hit: HitState, status: HitStatus, *, user_id: str, reason: str, now: datetime) -> None:
    """Record an analyst's decision once; a second decision is a conflict."""
    if hit.status != HitStatus.PENDING:
        raise Conflict(f"the hit was already {hit.status}", code="hit_already_decided")
    if not reason.strip():
        raise Invalid("a reason is required", code="reason_required")
    hit.status, hit.decided_by, hit.decided_at, hit.reason = status, user_id, now, reason.strip()

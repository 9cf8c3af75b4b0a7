"""What the screening API accepts and returns: hits in the review queue, decisions, an actor's summary."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from libs.common.schemas import Page, RequestBody
from services.kyc.domain.screening import Hit
from services.kyc.schemas.text import Reason


class DecideHit(RequestBody):
    reason: Reason = Field(description="why the hit is a true match or a false positive")


class SubjectOrEntryChange(BaseModel):
    kind: Literal["subject_changed", "entry_changed"]
    field: str | None = Field(None, description="subject_changed: the screened field (name, aliases, ...)")
    before: Any = None
    after: Any = None
    list_version_before: int | None = Field(None, description="entry_changed: the version the dismissal saw")
    list_version_after: int | None = Field(None, description="entry_changed: the version that changed the entry")


class ReraisedBecause(BaseModel):
    """Why a pair an analyst dismissed is back: what changed on either side since that dismissal."""

    previous_hit_id: UUID = Field(description="the dismissed hit of the same subject and entry")
    dismissed_by: str | None
    dismissed_at: datetime | None
    dismissal_reason: str | None
    changes: list[SubjectOrEntryChange]
    summary: str = Field(description="e.g. subject name changed from 'A' to 'B'; list entry changed in list version 3")


class HitRead(BaseModel):
    id: UUID
    actor_id: UUID
    subject_type: str
    subject_id: UUID
    subject_name: str = Field(description="the subject's name (or alias) that matched")
    watchlist_id: UUID
    watchlist_name: str
    entry_id: str
    matched_name: str = Field(description="the listed name that matched")
    score: float
    explanation: list[str] = Field(description="what matched: name comparison, then secondary identifiers")
    entry_removed: bool = Field(description="a later snapshot no longer lists the entry")
    status: str
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None
    reraised_because: ReraisedBecause | None = Field(
        description="set when the same subject and entry were dismissed before: the dismissal and what changed"
    )

    @classmethod
    def from_domain(cls, hit: Hit) -> HitRead:
        return cls.model_validate(hit, from_attributes=True)


HitPage = Page[HitRead]


class ActorScreeningRead(BaseModel):
    actor_id: UUID
    pending_hits: int
    confirmed_hits: int
    dismissed_hits: int
    pending_screenings: int
    last_screened_at: datetime | None

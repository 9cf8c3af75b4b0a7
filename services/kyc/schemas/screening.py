"""What the screening API accepts and returns: hits in the review queue, decisions, an actor's summary."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from libs.common.schemas import Page, RequestBody
from services.kyc.domain.screening import Hit
from services.kyc.schemas.text import Reason


class DecideHit(RequestBody):
    reason: Reason = Field(description="why the hit is a true match or a false positive")


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

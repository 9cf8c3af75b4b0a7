"""What the traceability HTTP API accepts and returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field


class KnownActorRead(BaseModel):
    actor_id: UUID
    legal_name: str
    actor_type: str
    country: str
    region: str | None
    kyc_status: str
    risk_level: str | None
    version: int = Field(description="the KYC event version of the actor this copy reflects")
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> KnownActorRead:  # a row of known_actor
        return cls.model_validate(row, from_attributes=True)

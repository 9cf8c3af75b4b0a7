"""What the traceability HTTP API accepts and returns."""
from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel

from services.traceability.tables import KnownActorRow


class KnownActorRead(BaseModel):
    actor_id: UUID
    legal_name: str
    actor_type: str
    kyc_status: str
    risk_level: str | None
    updated_at: datetime

    @classmethod
    def from_row(cls, row: KnownActorRow) -> "KnownActorRead":
        return cls.model_validate(row, from_attributes=True)

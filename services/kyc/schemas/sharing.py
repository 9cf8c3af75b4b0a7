"""What the sharing API accepts and returns."""
from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from services.kyc.schemas.text import OrgId
from services.kyc.tables.register import ActorShareRow


class ShareActor(BaseModel):
    model_config = ConfigDict(extra="forbid")

    org_id: OrgId


class ShareRead(BaseModel):
    actor_id: UUID
    org_id: str
    granted_by: str
    granted_at: datetime

    @classmethod
    def from_row(cls, row: ActorShareRow) -> ShareRead:
        return cls(actor_id=row.actor_id, org_id=row.grantee_org_id, granted_by=row.granted_by,
                   granted_at=row.granted_at)

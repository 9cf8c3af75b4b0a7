"""What the sharing API accepts and returns."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel

from libs.common.schemas import RequestBody
from services.kyc.domain.actors import Share
from services.kyc.schemas.text import OrgId


class ShareActor(RequestBody):
    org_id: OrgId


class ShareRead(BaseModel):
    actor_id: UUID
    org_id: str
    granted_by: str
    granted_at: datetime

    @classmethod
    def from_domain(cls, share: Share) -> ShareRead:
        return cls(
            actor_id=share.actor_id,
            org_id=share.grantee_org_id,
            granted_by=share.granted_by,
            granted_at=share.granted_at,
        )

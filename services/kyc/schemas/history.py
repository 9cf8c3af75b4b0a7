"""What the history API returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from libs.common.schemas import Page
from services.kyc.domain.history import AuditEntry


class HistoryEntryRead(BaseModel):
    id: UUID
    entity_type: str
    entity_id: str
    action: str
    user_id: str
    at: datetime
    changes: dict[str, Any]

    @classmethod
    def from_domain(cls, entry: AuditEntry) -> HistoryEntryRead:
        return cls.model_validate(entry, from_attributes=True)


HistoryPage = Page[HistoryEntryRead]

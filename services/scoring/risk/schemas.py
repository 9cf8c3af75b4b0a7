"""What the risk score API returns."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from libs.common.events.scoring import ScoreFactor


class SubjectType(StrEnum):
    actor = "actor"
    site = "site"
    lot = "lot"


class ScoreRead(BaseModel):
    subject_type: str
    subject_id: UUID
    version: int
    score: float
    band: str
    factors: list[ScoreFactor]
    weights_version: str
    computed_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> ScoreRead:
        return cls.model_validate(row, from_attributes=True)


class RecomputeRequestRead(BaseModel):
    request_id: UUID
    requested_by: str
    requested_at: datetime
    finished_at: datetime | None = None
    changed: dict[str, int] | None = None  # scores changed per subject type, once finished

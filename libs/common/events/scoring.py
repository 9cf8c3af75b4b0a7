"""Events the scoring service publishes on `scoring.events`, keyed by the scored subject's id."""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from libs.common.events.base import Event


class ScoringEvent(Event):
    topic: ClassVar[str] = "scoring.events"
    org_id: str


class ScoreChanged(ScoringEvent):
    subject_type: str
    subject_id: UUID
    framework: str
    score: float
    previous_score: float | None = None

"""Events the scoring service publishes on `scoring.events`.

Score events are keyed by the scored subject's id and carry `aggregate_version` (one higher for each score of the
subject); assessment events are keyed by the assessment id."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from libs.common.events.base import Event


class ScoreFactor(BaseModel):
    """One contribution to a score, and the event that set it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    factor: str  # e.g. kyc_status, confirmed_hits, open_incidents_level_1, upstream_worst
    value: str  # what was seen, e.g. "suspended", "2"
    contribution: float  # points added to the score
    source_event_id: str | None = None


class ScoringEvent(Event):
    topic: ClassVar[str] = "scoring.events"
    org_id: str


class ScoreChanged(ScoringEvent):
    subject_type: str  # actor | site | lot
    subject_id: UUID
    aggregate_version: int
    score: float  # 0 (no known risk) .. 100
    band: str  # low | medium | high | critical
    previous_score: float | None = None
    previous_band: str | None = None
    factors: list[ScoreFactor] = []
    weights_version: str
    computed_at: datetime


class AssessmentEvent(ScoringEvent):
    assessment_id: UUID
    subject_type: str  # actor | site
    subject_id: UUID
    framework: str  # e.g. craft
    framework_version: str
    self_assessment: bool = False
    assessed_on: date | None = None  # the day the assessment was made (the visit), which orders a subject's series


class AssessmentSubmitted(AssessmentEvent):
    outcome: str | None = None


class AssessmentReviewed(AssessmentEvent):
    outcome: str  # the framework's outcome code, e.g. engage_with_mitigation_plan
    reviewed_at: datetime | None = None

"""Scheduled work of risk scores, run by the scoring worker: full recomputes an admin asked for."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.scheduler import Job
from services.scoring.risk import recompute
from services.scoring.settings import ScoringSettings


def recompute_requests_job(settings: ScoringSettings) -> Job:
    """One requested full recompute per pass (its organisation's actors, sites and lots)."""

    async def run(db: AsyncSession, now: datetime) -> int:
        return await recompute.run_recompute_request(db, now)

    return Job("scoring.risk_recompute", timedelta(seconds=settings.scoring_risk_recompute_seconds), run)


def jobs(settings: ScoringSettings) -> Sequence[Job]:
    return (recompute_requests_job(settings),)

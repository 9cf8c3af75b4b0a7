"""The worker's scheduled jobs: IncidentOverdue once per missed deadline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.scheduler import Job
from services.incidents import use_cases
from services.incidents.settings import IncidentsSettings


def overdue_job(settings: IncidentsSettings) -> Job:
    max_open = timedelta(days=settings.incidents_max_open_days)

    async def run(db: AsyncSession, now: datetime) -> int:
        return await use_cases.notice_overdue(db, now=now, max_open=max_open)

    return Job("incidents.overdue", timedelta(minutes=settings.incidents_overdue_check_minutes), run)


def jobs(settings: IncidentsSettings) -> Sequence[Job]:
    return [overdue_job(settings)]

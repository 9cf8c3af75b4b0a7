"""Scheduled jobs: due ones run, two workers at once run a job once."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import scheduler


async def test_a_job_runs_when_due_and_two_workers_at_once_run_it_once(stack, row_locking):
    runs: list[datetime] = []

    async def slow_job(db: AsyncSession, now: datetime) -> int:
        runs.append(now)
        await asyncio.sleep(0.3)
        return 1

    jobs = [scheduler.Job("test-job", timedelta(hours=1), slow_job)]
    sessions = stack.sessions("kyc")

    first, second = await asyncio.gather(scheduler.run_due(sessions, jobs), scheduler.run_due(sessions, jobs))
    again = await scheduler.run_due(sessions, jobs)

    assert len(runs) == 1 and sorted([first, second], key=len) == [{}, {"test-job": 1}]
    assert again == {}  # not due for another hour
    assert await scheduler.run_due(sessions, jobs, force=True) == {"test-job": 1}


async def test_a_failing_job_does_not_stop_the_others(stack):
    async def broken(db: AsyncSession, now: datetime) -> int:
        raise RuntimeError("boom")

    async def fine(db: AsyncSession, now: datetime) -> int:
        return 2

    jobs = [scheduler.Job("broken", timedelta(minutes=1), broken), scheduler.Job("fine", timedelta(minutes=1), fine)]

    assert await scheduler.run_due(stack.sessions("kyc"), jobs) == {"fine": 2}

"""Scheduled work in the worker: each job runs under its row lock, so two workers never run it at once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common import health, metrics
from libs.common.db import insert, utcnow
from libs.common.tables import ScheduledJobRow

log = logging.getLogger("assay.scheduler")
Jobs = ScheduledJobRow.__table__


@dataclass(frozen=True)
class Job:
    """`run(db, now)` does one pass in the job's transaction. It must mark what it handled (e.g. a licence's
    expiry_notified_at) in that same transaction, so each effect fires once however often the job runs."""

    name: str
    every: timedelta
    run: Callable[[AsyncSession, datetime], Awaitable[int]]


async def run_due(
    sessions: async_sessionmaker[AsyncSession], jobs: Sequence[Job], *, now: datetime | None = None, force: bool = False
) -> dict[str, int]:
    """Run every job that is due (or all with force=True); returns effects per job that ran.

    One plain read of every job's last run comes first, so a tick with nothing due opens no write transaction (an
    idle worker ticks often); a job that looks due is checked again under its row lock."""
    ran: dict[str, int] = {}
    try:
        finished = {} if force else await _last_finished(sessions)
    except Exception as exc:  # the database is unreachable (or worse): try again on the next tick
        log.warning("could not read the scheduled jobs; retrying on the next tick", extra={"error": repr(exc)[:300]})
        return ran
    for job in jobs:
        health.beat("scheduler")
        when = now or utcnow()
        last = finished.get(job.name)
        if last is not None and last + job.every > when:
            continue
        try:
            effects = await _run_one(sessions, job, when, force=force)
        except Exception:  # one failing job must not stop the others; it is retried on the next tick
            metrics.JOB_RUNS.labels(job.name, "error").inc()
            log.exception("scheduled job failed", extra={"job": job.name})
            continue
        if effects is not None:
            ran[job.name] = effects
            metrics.JOB_RUNS.labels(job.name, "ok").inc()
    return ran


async def _last_finished(sessions: async_sessionmaker[AsyncSession]) -> dict[str, datetime]:
    async with sessions() as db:
        rows = (await db.execute(sa.select(Jobs.c.name, Jobs.c.last_finished_at))).all()
    return {row.name: row.last_finished_at for row in rows if row.last_finished_at is not None}


async def _run_one(sessions: async_sessionmaker[AsyncSession], job: Job, now: datetime, *, force: bool) -> int | None:
    async with sessions() as db, db.begin():
        await db.execute(insert(db.get_bind().dialect.name, Jobs).values(name=job.name).on_conflict_do_nothing())
        query = sa.select(Jobs.c.last_finished_at).where(Jobs.c.name == job.name).with_for_update(skip_locked=True)
        row = (await db.execute(query)).first()
        if row is None:
            return None  # another worker is running it right now
        if not force and row.last_finished_at is not None and row.last_finished_at + job.every > now:
            return None
        effects = await job.run(db, now)
        await db.execute(
            sa.update(Jobs).where(Jobs.c.name == job.name).values(last_started_at=now, last_finished_at=utcnow())
        )
        return effects


async def run_forever(
    sessions: async_sessionmaker[AsyncSession], jobs: Sequence[Job], stop: asyncio.Event, *, tick_seconds: float
) -> None:
    while not stop.is_set():
        health.beat("scheduler")
        await run_due(sessions, jobs)
        try:
            await asyncio.wait_for(stop.wait(), timeout=tick_seconds)
        except TimeoutError:
            pass

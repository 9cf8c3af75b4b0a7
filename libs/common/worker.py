"""The second process of every service: outbox relay, event consumer, scheduled jobs, gauges, each supervised."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from prometheus_client import Counter, Gauge
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common import bus, health, inbox, outbox, scheduler
from libs.common.db import utcnow
from libs.common.relay import Relay
from libs.common.retry import stray_cancellation
from libs.common.settings import ServiceSettings
from libs.common.tables import DeadLetterRow, OutboxMessageRow, ScheduledJobRow

log = logging.getLogger("assay.worker")
Loop = Callable[[asyncio.Event], Awaitable[None]]

TASK_RESTARTS = Counter("assay_worker_task_restarts_total", "Worker tasks restarted after they failed", ["task"])
OUTBOX_PENDING = Gauge("assay_outbox_pending", "Outbox messages not published yet")
OUTBOX_OLDEST_PENDING = Gauge("assay_outbox_oldest_pending_seconds", "Age of the oldest unpublished outbox message")
DEAD_LETTERS = Gauge("assay_dead_letters", "Dead-lettered events not replayed yet")
JOB_LAST_SUCCESS = Gauge("assay_job_last_success_timestamp", "Unix time a scheduled job last finished", ["job"])

FIRST_RETRY_SECONDS = 0.5
MAX_RETRY_SECONDS = 30.0
HEALTHY_RUN_SECONDS = 60.0  # a task that ran this long before failing starts its backoff over
GAUGES_EVERY_SECONDS = 15.0
SHUTDOWN_SECONDS = 20.0
# Outages (database unreachable) are waited out, not crashes: the gauges just keep their last values.
OUTAGE_ERRORS = (sa.exc.OperationalError, sa.exc.InterfaceError, OSError, TimeoutError)


def housekeeping_job(settings: ServiceSettings) -> scheduler.Job:
    async def purge(db: AsyncSession, now: datetime) -> int:
        purged = await outbox.purge_published(db, retention=timedelta(hours=settings.outbox_retention_hours))
        return purged + await inbox.purge_processed(db, retention=timedelta(hours=settings.inbox_retention_hours))

    return scheduler.Job("housekeeping", timedelta(hours=1), purge)


async def run_worker(
    settings: ServiceSettings,
    sessions: async_sessionmaker[AsyncSession],
    *,
    handlers: bus.Handlers,
    jobs: Sequence[scheduler.Job] = (),
    stop: asyncio.Event | None = None,
) -> None:
    stop = stop or asyncio.Event()
    loops = _loops(settings, sessions, handlers=handlers, jobs=jobs)
    tasks = [
        asyncio.create_task(supervise(name, run, stop, within=within), name=name)
        for name, (run, within) in loops.items()
    ]
    tasks.append(asyncio.create_task(supervise("health", _health_server(settings, sessions), stop), name="health"))
    log.info("worker started", extra={"tasks": list(loops), "port": settings.worker_port})
    try:
        await stop.wait()
        _, late = await asyncio.wait(tasks, timeout=SHUTDOWN_SECONDS)
        if late:
            log.error("worker tasks did not stop in time; cancelled", extra={"tasks": [t.get_name() for t in late]})
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        health.forget(*loops)
    log.info("worker stopped")


def _loops(
    settings: ServiceSettings,
    sessions: async_sessionmaker[AsyncSession],
    *,
    handlers: bus.Handlers,
    jobs: Sequence[scheduler.Job],
) -> dict[str, tuple[Loop, float]]:
    """Each task's loop (built afresh on every restart) and how long it may go without a beat."""
    limit = settings.worker_liveness_seconds
    tick = settings.scheduler_interval_seconds
    all_jobs = [*jobs, housekeeping_job(settings)]
    loops: dict[str, tuple[Loop, float]] = {
        "relay": (lambda stop: Relay(settings, sessions).run(stop), limit),
        "scheduler": (
            lambda stop: scheduler.run_forever(sessions, all_jobs, stop, tick_seconds=tick),
            max(limit, 3 * tick),
        ),  # it beats once per tick and before each job
        "gauges": (lambda stop: publish_gauges(sessions, stop), max(limit, 3 * GAUGES_EVERY_SECONDS)),
    }
    if handlers:
        loops["consumer"] = (lambda stop: bus.Consumer(settings, sessions, handlers).run(stop), limit)
    return loops


async def supervise(name: str, run: Loop, stop: asyncio.Event, *, within: float | None = None) -> None:
    """Run `run(stop)` until stop is set; restart it with backoff whenever it raises or returns early.

    `within`: the task must call health.beat(name) at least this often (None: not watched by /health)."""
    delay = FIRST_RETRY_SECONDS
    while not stop.is_set():
        if within is not None:
            health.expect(name, within=within)
        started = time.monotonic()
        try:
            await run(stop)
        except (Exception, asyncio.CancelledError) as exc:
            if isinstance(exc, asyncio.CancelledError) and not stray_cancellation(exc):
                raise  # the worker is shutting this task down; a stray one is a crash like any other
            if stop.is_set():
                log.exception("worker task failed while stopping", extra={"task": name})
                return
            reason = f"{type(exc).__name__}: {exc}"[:300]
            log.exception("worker task failed; restarting", extra={"task": name, "retry_in": delay})
        else:
            if stop.is_set():
                return
            reason = "returned while the worker runs"
            log.error("worker task returned; restarting", extra={"task": name, "retry_in": delay})
        TASK_RESTARTS.labels(name).inc()
        if within is not None:
            health.down(name, reason)
        if time.monotonic() - started >= HEALTHY_RUN_SECONDS:
            delay = FIRST_RETRY_SECONDS
        await _sleep(stop, delay)
        delay = min(delay * 2, MAX_RETRY_SECONDS)


def _health_server(settings: ServiceSettings, sessions: async_sessionmaker[AsyncSession]) -> Loop:
    async def database_answers() -> bool:
        async with sessions() as db:
            await db.execute(sa.text("SELECT 1"))
        return True

    def serve(stop: asyncio.Event) -> Awaitable[None]:
        return health.serve(settings.worker_host, settings.worker_port, ready=database_answers, stop=stop)

    return serve


async def publish_gauges(
    sessions: async_sessionmaker[AsyncSession], stop: asyncio.Event, *, every: float = GAUGES_EVERY_SECONDS
) -> None:
    """What an operator alerts on: the outbox backlog, dead letters, when each job last succeeded."""
    outage = False
    while not stop.is_set():
        try:
            await update_gauges(sessions)
            outage = False
        except OUTAGE_ERRORS as exc:
            if not outage:
                log.warning("gauges: database unreachable; keeping the last values", extra={"error": repr(exc)})
            outage = True
        health.beat("gauges")
        await _sleep(stop, every)


async def update_gauges(sessions: async_sessionmaker[AsyncSession]) -> None:
    outbox_table, dead, jobs = OutboxMessageRow.__table__, DeadLetterRow.__table__, ScheduledJobRow.__table__
    pending = outbox_table.c.published_at.is_(None)
    async with sessions() as db:
        count = await db.scalar(sa.select(sa.func.count()).select_from(outbox_table).where(pending))
        # The oldest by id walks the pending index to one row, however long the backlog.
        oldest = await db.scalar(
            sa.select(outbox_table.c.occurred_at).where(pending).order_by(outbox_table.c.id).limit(1)
        )
        dead_letters = await db.scalar(sa.select(sa.func.count()).select_from(dead).where(dead.c.replayed_at.is_(None)))
        finished = (await db.execute(sa.select(jobs.c.name, jobs.c.last_finished_at))).all()
    OUTBOX_PENDING.set(count or 0)
    OUTBOX_OLDEST_PENDING.set((utcnow() - oldest).total_seconds() if oldest else 0)
    DEAD_LETTERS.set(dead_letters or 0)
    for name, last_finished_at in finished:
        if last_finished_at is not None:
            JOB_LAST_SUCCESS.labels(name).set(last_finished_at.timestamp())


def install_signal_handlers(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass

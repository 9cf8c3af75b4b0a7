"""The second process of every service: outbox relay, event consumer, scheduled jobs, housekeeping."""
from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common import bus, inbox, outbox, scheduler
from libs.common.relay import Relay
from libs.common.settings import ServiceSettings

log = logging.getLogger("assay.worker")


def housekeeping_job(settings: ServiceSettings) -> scheduler.Job:
    async def purge(db: AsyncSession, now: datetime) -> int:
        purged = await outbox.purge_published(db, retention=timedelta(hours=settings.outbox_retention_hours))
        return purged + await inbox.purge_processed(db, retention=timedelta(hours=settings.inbox_retention_hours))

    return scheduler.Job("housekeeping", timedelta(hours=1), purge)


async def run_worker(settings: ServiceSettings, sessions: async_sessionmaker[AsyncSession], *,
                     handlers: bus.Handlers, jobs: Sequence[scheduler.Job] = (),
                     stop: asyncio.Event | None = None) -> None:
    stop = stop or asyncio.Event()
    tasks = [asyncio.create_task(Relay(settings, sessions).run(stop), name="relay"),
             asyncio.create_task(scheduler.run_forever(sessions, [*jobs, housekeeping_job(settings)], stop,
                                                       tick_seconds=settings.scheduler_interval_seconds),
                                 name="scheduler")]
    if handlers:
        tasks.append(asyncio.create_task(bus.Consumer(settings, sessions, handlers).run(stop), name="consumer"))
    log.info("worker started", extra={"tasks": [t.get_name() for t in tasks]})
    await stop.wait()
    await asyncio.gather(*tasks, return_exceptions=True)
    log.info("worker stopped")


def install_signal_handlers(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

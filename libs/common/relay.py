"""The outbox relay loop: publish pending rows, wait out outages, refill a broker that forgot its log."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from libs.common import bus, health, outbox
from libs.common.retry import Backoff, close_quietly, is_infrastructure_error, sleep_unless_stopped, stray_cancellation
from libs.common.settings import ServiceSettings

log = logging.getLogger("assay.relay")
SQLITE_WATCH_SECONDS = 0.2
LINGER_SECONDS = 1.0  # keep polling fast this long after the last event: longer than outbox.WAKE_EVERY_SECONDS


class Relay:
    """One per worker. Idle, it sleeps until a PostgreSQL NOTIFY from a writer (or `relay_max_idle_seconds`);
    while events flow it polls every `relay_idle_seconds`.

    Where the broker may forget its log (`kafka_broker_forgets`), it compares the broker's epoch with the one its
    database last published under, before sending and every `broker_epoch_check_seconds`; when they differ, every
    retained event is sent again in order (consumers drop what they applied). Events sent to a new broker before
    the check noticed it are among those resent, so nothing depends on the check's timing."""

    def __init__(self, settings: ServiceSettings, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.settings, self.sessions = settings, sessions
        self.producer: AIOKafkaProducer | None = None
        self.epochs = bus.BrokerEpoch(settings)
        self.next_epoch_check = 0.0
        self.wake = asyncio.Event()
        self.listener: Any = None  # the asyncpg connection that LISTENs for writers' hints
        self.watcher: asyncio.Task[None] | None = None  # SQLite: the task watching the database file

    async def run(self, stop: asyncio.Event) -> None:
        backoff = Backoff(first=0.5, cap=self.settings.outage_backoff_max_seconds)
        try:
            while not stop.is_set():
                try:
                    await self._connect()
                    await self._drain(stop, backoff)
                except (Exception, asyncio.CancelledError) as exc:
                    if not (is_infrastructure_error(exc) or stray_cancellation(exc)):
                        raise  # a bug: the worker's supervisor logs it and restarts this task
                    delay = backoff.next()
                    log.warning(
                        "relay lost the broker or its database; retrying",
                        extra={"error": repr(exc)[:300], "retry_in_seconds": round(delay, 2)},
                    )
                    await self._disconnect(abandon=True)
                    await sleep_unless_stopped(stop, delay)
        finally:
            await self._disconnect()

    async def _connect(self) -> None:
        if self.producer is None:
            producer = bus.make_producer(self.settings)
            try:
                await producer.start()
            except BaseException:
                await _stop_quietly(producer)
                raise
            self.producer = producer
            self.next_epoch_check = 0.0  # a (re)connection may be to a broker that lost everything

    async def _disconnect(self, *, abandon: bool = False) -> None:
        await self.epochs.close()
        await self._unlisten()
        if self.producer is not None:
            producer, self.producer = self.producer, None
            if abandon:
                # stop() flushes records buffered during the outage, which can take the whole request timeout;
                # let it finish in the background. If they land late they are duplicates the inbox drops, and
                # versioned read models ignore them.
                asyncio.get_running_loop().create_task(_stop_quietly(producer))
            else:
                await _stop_quietly(producer)

    async def _drain(self, stop: asyncio.Event, backoff: Backoff) -> None:
        last_sent = time.monotonic()
        while not stop.is_set():
            health.beat("relay")
            if self.listener is None:
                await self._listen()
            await self.follow_epoch()
            self.wake.clear()
            sent = await outbox.relay_batch(
                self.sessions,
                self.producer,
                limit=self.settings.relay_batch_size,
                ack_timeout=self.settings.relay_ack_timeout_seconds,
            )
            backoff.reset()
            now = time.monotonic()
            if sent:
                last_sent = now
                continue
            if now - last_sent < LINGER_SECONDS:
                wait = self.settings.relay_idle_seconds
            else:
                wait = self.settings.relay_max_idle_seconds
                if self.settings.kafka_broker_forgets:
                    wait = min(wait, max(0.0, self.next_epoch_check - now))
            await self._sleep(stop, wait)

    async def follow_epoch(self) -> int:
        """Refill the broker if it is not the incarnation our published events went to; returns events requeued."""
        if not self.settings.kafka_broker_forgets or time.monotonic() < self.next_epoch_check:
            return 0
        topic = self.settings.topic
        epoch = await self.epochs.read(create=True)
        self.next_epoch_check = time.monotonic() + self.settings.broker_epoch_check_seconds
        if epoch is None or epoch == await outbox.stored_epoch(self.sessions, topic):
            return 0
        await bus.ensure_topics(self.settings, [topic])
        requeued = await outbox.requeue_for_epoch(self.sessions, topic, epoch=epoch)
        log.warning(
            "the broker is a new incarnation; republishing every retained event",
            extra={"topic": topic, "epoch": epoch, "events": requeued},
        )
        return requeued

    async def _sleep(self, stop: asyncio.Event, seconds: float) -> None:
        if seconds <= 0:
            return
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.wake.wait())]
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _listen(self) -> None:
        """LISTEN for writers' wake-up hints (PostgreSQL only; elsewhere the relay just polls)."""
        engine: AsyncEngine | None = self.sessions.kw.get("bind")
        if engine is not None and engine.dialect.name == "sqlite" and engine.url.database:
            self.listener = False
            self.watcher = asyncio.get_running_loop().create_task(self._watch_sqlite(engine.url.database))
            return
        if engine is None or engine.dialect.name != "postgresql":
            self.listener = False
            return
        connection = await engine.connect()
        try:
            raw = (await connection.get_raw_connection()).driver_connection
            assert raw is not None  # an open connection has its driver's
            await raw.add_listener(outbox.WAKE_CHANNEL, lambda *_: self.wake.set())
            raw.add_termination_listener(lambda *_: self._listener_lost())
        except BaseException:
            await connection.close()
            raise
        self.listener = connection

    async def _watch_sqlite(self, path: str) -> None:
        """SQLite has no NOTIFY: any commit changes the database's WAL file, so a stat() of it every
        SQLITE_WATCH_SECONDS is a wake-up hint at almost no cost (the relay's own reads do not change it)."""
        files = [Path(path), Path(path + "-wal")]

        def stamp() -> tuple[tuple[int, int], ...]:
            return tuple((f.stat().st_mtime_ns, f.stat().st_size) if f.exists() else (0, 0) for f in files)

        seen = stamp()
        while True:
            await asyncio.sleep(SQLITE_WATCH_SECONDS)
            now = stamp()
            if now != seen:
                seen = now
                self.wake.set()

    def _listener_lost(self) -> None:
        self.wake.set()  # poll now; the next loop pass listens again
        connection, self.listener = self.listener, None
        if connection:
            asyncio.get_running_loop().create_task(_close_quietly(connection))

    async def _unlisten(self) -> None:
        if self.watcher is not None:
            self.watcher.cancel()
            self.watcher = None
        connection, self.listener = self.listener, None
        if connection:
            await _close_quietly(connection)


async def _stop_quietly(producer: AIOKafkaProducer) -> None:
    await close_quietly(producer.stop())


async def _close_quietly(connection: Any) -> None:
    try:
        await connection.invalidate()
    except Exception:  # the connection is already gone
        pass

"""Kafka plumbing: producers, topics, the broker epoch, and the consumer loop (inbox dedupe, outages, dead letters)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from prometheus_client import Gauge
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from libs.common import deadletters, health, inbox, metrics, telemetry
from libs.common.events import REGISTRY, Envelope, Event
from libs.common.retry import (
    Backoff,
    Stopping,
    close_quietly,
    is_infrastructure_error,
    pause,
    sleep_unless_stopped,
    stray_cancellation,
)
from libs.common.settings import ServiceSettings

log = logging.getLogger("assay.bus")
Handler = Callable[[AsyncSession, Any], Awaitable[None]]
Handlers = Mapping[type[Event], Handler]
IDLE_AFTER_SECONDS = 2.0  # no records for this long: fetch with the long (idle) wait
CONSUMER_LAG = Gauge(
    "assay_consumer_lag", "Records behind the partition's end after the last batch", ["consumer", "topic", "partition"]
)


# --- work done once per transaction, after its last handler ----------------------------------------------------

Step = Callable[[AsyncSession], Awaitable[None]]
_STEPS = "assay_bus_steps"


def finish_with(db: AsyncSession, step: Step) -> None:
    """Have `step(db)` run once in this transaction, after its last handler and before it commits: what a handler
    would otherwise repeat for every event of a batch (scoring's recompute) is done once for all of them. A failing
    step fails the batch like a failing handler (the events are then applied one by one, each with its steps)."""
    steps: list[Step] = db.info.setdefault(_STEPS, [])
    if step not in steps:
        steps.append(step)


async def finish(db: AsyncSession) -> None:
    """Run the steps the handlers asked for (finish_with); the consumer calls it before every commit, and so must
    anyone else who calls handlers."""
    while steps := db.info.pop(_STEPS, None):
        for step in steps:
            await step(db)


@sa.event.listens_for(Session, "before_commit")
def _steps_were_run(session: Session) -> None:
    if session.info.pop(_STEPS, None):
        raise RuntimeError("handlers asked for steps at the end of the transaction (finish_with), never run (finish)")


@sa.event.listens_for(Session, "after_rollback")
def _drop_steps(session: Session) -> None:
    session.info.pop(_STEPS, None)


def make_producer(settings: ServiceSettings, **overrides: Any) -> AIOKafkaProducer:
    options: dict[str, Any] = dict(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        acks="all",
        enable_idempotence=settings.kafka_enable_idempotence,
        linger_ms=2,
        max_batch_size=512 * 1024,
        request_timeout_ms=30000,
        retry_backoff_ms=200,
    )
    options.update(overrides)
    return AIOKafkaProducer(**options)


async def ensure_topics(settings: ServiceSettings, topics: list[str]) -> None:
    """Create topics explicitly: a restarted memory broker has none, and commits fail until they exist."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers, request_timeout_ms=10000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if missing:
            try:
                await admin.create_topics([NewTopic(t, settings.kafka_topic_partitions, 1) for t in missing])
            except TopicAlreadyExistsError:
                pass
    finally:
        await admin.close()


EPOCH_PREFIX = "assay-epoch."


class BrokerEpoch:
    """Names the broker's incarnation, for brokers that may forget their log (the embedded memory broker).

    The epoch is the smallest name among the broker's `assay-epoch.<random>` topics. Ordinary sends never touch
    those topics, so new events cannot fool the check the way "is my newest event still at its offset?" was
    fooled; a broker that restarted empty has none until someone creates one, and then a different name."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.admin: AIOKafkaAdminClient | None = None

    async def read(self, *, create: bool) -> str | None:
        try:
            names = await self._epoch_topics()
            if not names and create:
                assert self.admin is not None  # _epoch_topics opened it
                try:
                    await self.admin.create_topics([NewTopic(EPOCH_PREFIX + uuid4().hex, 1, 1)])
                except TopicAlreadyExistsError:
                    pass
                names = await self._epoch_topics()
        except BaseException:
            await self.close()
            raise
        return names[0] if names else None

    async def _epoch_topics(self) -> list[str]:
        if self.admin is None:
            admin = AIOKafkaAdminClient(
                bootstrap_servers=self.settings.kafka_bootstrap_servers, request_timeout_ms=10000
            )
            await admin.start()
            self.admin = admin
        return sorted(t for t in await self.admin.list_topics() if t.startswith(EPOCH_PREFIX))

    async def close(self) -> None:
        if self.admin is not None:
            admin, self.admin = self.admin, None
            await close_quietly(admin.close())


@dataclass(frozen=True)
class Delivery:
    """One record as delivered by Kafka or read back from the dead-letter table."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]

    @classmethod
    def of(cls, record: ConsumerRecord) -> Delivery:
        return cls(record.topic, record.partition, record.offset, record.key, record.value, tuple(record.headers or ()))


Prepared = tuple[Delivery, Envelope, Event, Handler]


class _RestartFromCommitted(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka has no types: the base is Any
    """On every assignment, start where the group committed, or at the beginning when nothing is committed.

    A broker that lost its log (the embedded memory broker after a restart) has no committed offsets, while the
    consumer still holds positions in the old log; re-reading from the start is safe because the inbox dedupes."""

    def __init__(self, owner: Consumer) -> None:
        self.owner = owner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        return None

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        consumer = self.owner.consumer
        if consumer is None or self.owner.offset_reset != "earliest":
            return
        for tp in assigned:
            if await consumer.committed(tp) is None:
                consumer.seek(tp, 0)


class Consumer:
    """At-least-once delivery, exactly-once effect: effect + inbox row commit together, offsets move only after.

    An outage (database or broker unreachable) pauses and retries with capped backoff for as long as it lasts; only
    a handler that fails on a reachable database (a bug, an invalid payload) is retried a few times and then kept
    in the dead_letter table for a replay after the fix."""

    def __init__(
        self,
        settings: ServiceSettings,
        sessions: async_sessionmaker[AsyncSession],
        handlers: Handlers,
        *,
        name: str | None = None,
        from_beginning: bool = True,
    ) -> None:
        self.settings, self.sessions = settings, sessions
        self.handlers = {cls.event_type(): handler for cls, handler in handlers.items()}
        self.name = name or settings.service_name
        self.topics = sorted({cls.topic for cls in handlers})
        self.offset_reset = "earliest" if from_beginning else "latest"
        self.consumer: AIOKafkaConsumer | None = None
        self.epochs = BrokerEpoch(settings)
        self.epoch: str | None = None
        self.next_epoch_check = 0.0
        self.stop = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        self.stop = stop
        backoff = Backoff(first=0.5, cap=self.settings.outage_backoff_max_seconds)
        while not stop.is_set():
            try:
                await self._start()
                await self._loop()
            except Stopping:
                break
            except (Exception, asyncio.CancelledError) as exc:
                if not (is_infrastructure_error(exc) or stray_cancellation(exc)):
                    raise  # a bug: the worker's supervisor logs it and restarts this task
                log.warning(
                    "consumer lost the broker or its database; retrying",
                    extra={"error": repr(exc), "consumer": self.name},
                )
                await sleep_unless_stopped(stop, backoff.next())
            finally:
                await self._stop()

    async def _start(self) -> None:
        await ensure_topics(self.settings, self.topics)
        if self.settings.kafka_broker_forgets:
            self.epoch = await self.epochs.read(create=False)
            self.next_epoch_check = time.monotonic() + self.settings.broker_epoch_check_seconds
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            group_id=self.name,
            enable_auto_commit=False,
            auto_offset_reset=self.offset_reset,
            max_poll_records=2000,
            fetch_max_wait_ms=self.settings.consumer_fetch_wait_ms,
        )
        await self.consumer.start()
        self.consumer.subscribe(self.topics, listener=_RestartFromCommitted(self))

    async def _stop(self) -> None:
        await self.epochs.close()
        if self.consumer is not None:
            consumer, self.consumer = self.consumer, None
            await close_quietly(consumer.stop())

    async def _loop(self) -> None:
        assert self.consumer is not None
        last_records = time.monotonic()
        while not self.stop.is_set():
            health.beat("consumer")
            await self._follow_epoch()
            batches = await self.consumer.getmany(timeout_ms=1000, max_records=2000)
            if not batches:
                if time.monotonic() - last_records > IDLE_AFTER_SECONDS:
                    self._fetch_wait(self.settings.consumer_idle_fetch_wait_ms)
                continue
            last_records = time.monotonic()
            self._fetch_wait(self.settings.consumer_fetch_wait_ms)
            # Partitions hold disjoint keys, so they are applied side by side; each stays in order.
            await asyncio.gather(
                *(self.process_batch([Delivery.of(r) for r in records]) for records in batches.values())
            )
            await self._commit({tp: records[-1].offset + 1 for tp, records in batches.items()})
            for tp, records in batches.items():
                highwater = self.consumer.highwater(tp)
                if highwater is not None:
                    CONSUMER_LAG.labels(self.name, tp.topic, str(tp.partition)).set(
                        max(0, highwater - records[-1].offset - 1)
                    )

    def _fetch_wait(self, ms: int) -> None:
        """aiokafka fixes fetch_max_wait_ms at construction; its fetcher reads this attribute for every request
        (private API of the pinned version, checked by tests/common/test_bus_reliability.py)."""
        fetcher = getattr(self.consumer, "_fetcher", None)
        if fetcher is not None and getattr(fetcher, "_fetch_max_wait_ms", ms) != ms:
            fetcher._fetch_max_wait_ms = ms

    async def _follow_epoch(self) -> None:
        """A broker that came back empty hands out offsets from 0 again: re-read every partition from the start
        (the inbox drops what was applied), rather than trust positions in a log that no longer exists."""
        if not self.settings.kafka_broker_forgets or time.monotonic() < self.next_epoch_check:
            return
        self.next_epoch_check = time.monotonic() + self.settings.broker_epoch_check_seconds
        epoch = await self.epochs.read(create=False)
        if epoch == self.epoch:
            return
        log.warning(
            "the broker is a new incarnation; re-reading from the beginning",
            extra={"consumer": self.name, "old_epoch": self.epoch, "epoch": epoch},
        )
        self.epoch = epoch
        assert self.consumer is not None
        assigned = self.consumer.assignment()
        if assigned:
            await self.consumer.seek_to_beginning(*assigned)

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        assert self.consumer is not None
        try:
            await self.consumer.commit(offsets)
        except KafkaError as exc:
            # Effects are committed already; a redelivery after a lost commit is dropped by the inbox.
            log.warning("offset commit failed; will commit later", extra={"error": repr(exc)})

    async def process_batch(self, deliveries: list[Delivery]) -> None:
        """Apply a partition's records in one transaction; if a handler fails, apply them one at a time so only
        the failing one is retried and, in the end, dead-lettered."""
        prepared = [item for delivery in deliveries if (item := await self.prepare(delivery)) is not None]
        if not prepared:
            return
        outage = Backoff(cap=self.settings.outage_backoff_max_seconds)
        while True:
            try:
                async with self.sessions() as db, db.begin():
                    first = await inbox.first_deliveries(
                        db,
                        [(envelope.event_id, envelope.event_type) for _, envelope, _, _ in prepared],
                        consumer=self.name,
                    )
                    for delivery, envelope, event, handler in prepared:
                        if envelope.event_id in first:
                            first.discard(envelope.event_id)  # the same event twice in one batch is applied once
                            with self._handling(delivery, envelope):
                                await handler(db, event)
                    await finish(db)
                metrics.EVENTS_CONSUMED.labels(self.name, "applied").inc(len(prepared))
                return
            except Exception as exc:
                if not await self._is_outage(exc):
                    log.info("batch failed; applying its events one by one", extra={"error": repr(exc)[:300]})
                    break
                await self._wait_out(exc, outage)
        for item in prepared:
            await self._apply(item)

    async def prepare(self, delivery: Delivery) -> Prepared | None:
        """Parse and route a record; None when it is skipped or dead-lettered."""
        try:
            envelope = Envelope.from_kafka(list(delivery.headers), delivery.key, delivery.value)
        except ValueError as exc:
            await self._dead_letter(delivery, None, f"malformed: {exc}", attempts=1)
            return None
        handler = self.handlers.get(envelope.event_type)
        if handler is None:
            reason = "unknown_type" if envelope.event_type not in REGISTRY else "not_handled"
            metrics.EVENTS_SKIPPED.labels(self.name, reason).inc()
            if reason == "unknown_type":
                log.info("skipped unknown event type", extra={"event_type": envelope.event_type})
            return None
        try:
            event = REGISTRY[envelope.event_type].model_validate(envelope.payload)
        except ValidationError as exc:
            await self._dead_letter(delivery, envelope, f"invalid payload: {exc}", attempts=1)
            return None
        return delivery, envelope, event, handler

    async def apply_once(self, item: Prepared) -> None:
        """Apply one event in its own transaction unless it was applied before; raises what the handler raised."""
        delivery, envelope, event, handler = item
        async with self.sessions() as db, db.begin():
            if await inbox.first_delivery(db, envelope.event_id, consumer=self.name, event_type=envelope.event_type):
                with self._handling(delivery, envelope):
                    await handler(db, event)
                    await finish(db)
        metrics.EVENTS_CONSUMED.labels(self.name, "applied").inc()

    def _handling(self, delivery: Delivery, envelope: Envelope) -> contextlib.AbstractContextManager[None]:
        """Log lines carry the event's id; with tracing on, a consumer span continues the event's trace."""
        return telemetry.consuming(
            self.name, delivery.topic, envelope.event_id, envelope.event_type, envelope.traceparent
        )

    async def _apply(self, item: Prepared) -> None:
        attempts, outage = 0, Backoff(cap=self.settings.outage_backoff_max_seconds)
        while True:
            try:
                await self.apply_once(item)
                return
            except Exception as exc:
                if await self._is_outage(exc):
                    await self._wait_out(exc, outage)
                    continue
                attempts += 1
                log.warning(
                    "handler failed",
                    extra={
                        "event_id": item[1].event_id,
                        "attempt": attempts,
                        "error": repr(exc)[:500],
                        "consumer": self.name,
                    },
                )
                if attempts >= self.settings.consumer_max_attempts:
                    await self._dead_letter(item[0], item[1], f"{type(exc).__name__}: {exc}", attempts=attempts)
                    return
                await pause(self.stop, self.settings.consumer_retry_backoff_seconds * attempts)

    async def _is_outage(self, exc: BaseException) -> bool:
        """An infrastructure error, or any error while the database does not answer a trivial query."""
        return is_infrastructure_error(exc) or not await database_answers(self.sessions)

    async def _wait_out(self, exc: BaseException, backoff: Backoff) -> None:
        delay = backoff.next()
        log.warning(
            "database or broker unavailable; pausing before a retry",
            extra={"consumer": self.name, "error": repr(exc)[:300], "retry_in_seconds": round(delay, 2)},
        )
        health.beat("consumer")  # waiting out an outage is alive, not stuck
        await pause(self.stop, delay)

    async def _dead_letter(self, delivery: Delivery, envelope: Envelope | None, error: str, *, attempts: int) -> None:
        outage = Backoff(cap=self.settings.outage_backoff_max_seconds)
        while True:
            try:
                async with self.sessions() as db, db.begin():
                    await deadletters.record(
                        db, consumer=self.name, delivery=delivery, envelope=envelope, error=error, attempts=attempts
                    )
                break
            except Exception as exc:
                if not await self._is_outage(exc):
                    raise
                await self._wait_out(exc, outage)
        metrics.EVENTS_DEAD_LETTERED.labels(self.name).inc()
        log.error(
            "event dead-lettered",
            extra={"topic": delivery.topic, "offset": delivery.offset, "consumer": self.name, "error": error[:500]},
        )


async def database_answers(sessions: async_sessionmaker[AsyncSession], *, timeout: float = 5.0) -> bool:
    try:
        async with sessions() as db:
            await asyncio.wait_for(db.execute(sa.text("SELECT 1")), timeout=timeout)
        return True
    except Exception:  # any failure to answer SELECT 1 means the database is not usable right now
        return False

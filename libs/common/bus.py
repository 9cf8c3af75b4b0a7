"""Kafka plumbing: producers, topics, and the at-least-once consumer loop with inbox dedupe and dead letters."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import KafkaConnectionError, KafkaError, OffsetOutOfRangeError, TopicAlreadyExistsError
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common import inbox, metrics
from libs.common.events import REGISTRY, Envelope, Event
from libs.common.settings import ServiceSettings

log = logging.getLogger("assay.bus")
Handler = Callable[[AsyncSession, Any], Awaitable[None]]
Handlers = Mapping[type[Event], Handler]


def make_producer(settings: ServiceSettings, **overrides: Any) -> AIOKafkaProducer:
    options: dict[str, Any] = dict(
        bootstrap_servers=settings.kafka_bootstrap_servers, acks="all",
        enable_idempotence=settings.kafka_enable_idempotence, linger_ms=2, max_batch_size=512 * 1024,
        request_timeout_ms=30000, retry_backoff_ms=200)
    options.update(overrides)
    return AIOKafkaProducer(**options)


async def abandon_producer(producer: AIOKafkaProducer) -> None:
    """Close without flushing: records buffered during an outage must not land after events sent later.

    aiokafka's stop() flushes the buffer, so this reaches into its sender and accumulator (private API)."""
    sender = getattr(producer, "_sender", None)
    if sender is not None and sender.sender_task is not None:
        sender.sender_task.cancel()
    producer._message_accumulator.fail_all(KafkaConnectionError("producer abandoned after an outage"))
    producer._closed = True
    await producer.client.close()


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


async def event_id_at(settings: ServiceSettings, topic: str, partition: int, offset: int) -> str | None:
    """The CloudEvent id of the record at (topic, partition, offset); None when the broker hands back no record
    there (out of range, or nothing within the wait). Tansu's ListOffsets can lag its acks, so it is not asked."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, enable_auto_commit=False,
                                auto_offset_reset="none")
    await consumer.start()
    try:
        tp = TopicPartition(topic, partition)
        consumer.assign([tp])
        consumer.seek(tp, offset)
        try:
            batch = await consumer.getmany(tp, timeout_ms=3000, max_records=1)
        except OffsetOutOfRangeError:
            return None
        records = [r for r in batch.get(tp, []) if r.offset == offset]
        return dict(records[0].headers).get("ce_id", b"").decode() or None if records else None
    finally:
        await consumer.stop()


class _RestartFromCommitted(ConsumerRebalanceListener):
    """On every assignment, start where the group committed, or at the beginning when nothing is committed.

    A broker that lost its log (the embedded memory broker after a restart) has no committed offsets, while the
    consumer still holds positions in the old log; re-reading from the start is safe because the inbox dedupes."""

    def __init__(self, owner: "Consumer") -> None:
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
    """At-least-once: effect + inbox row commit together, offsets move only after that commit."""

    def __init__(self, settings: ServiceSettings, sessions: async_sessionmaker[AsyncSession], handlers: Handlers, *,
                 name: str | None = None, from_beginning: bool = True) -> None:
        self.settings, self.sessions = settings, sessions
        self.handlers = {cls.event_type(): handler for cls, handler in handlers.items()}
        self.name = name or settings.service_name
        self.topics = sorted({cls.topic for cls in handlers})
        self.dead_letter_topic = f"{self.name}.deadletter"
        self.offset_reset = "earliest" if from_beginning else "latest"
        self.consumer: AIOKafkaConsumer | None = None
        self.producer: AIOKafkaProducer | None = None

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self._start()
                await self._loop(stop)
            except (KafkaError, OSError) as exc:
                log.warning("consumer lost the broker; retrying", extra={"error": repr(exc), "consumer": self.name})
                await asyncio.sleep(1.0)
            finally:
                await self._stop()

    async def _start(self) -> None:
        await ensure_topics(self.settings, self.topics + [self.dead_letter_topic])
        self.producer = make_producer(self.settings)
        await self.producer.start()
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap_servers, group_id=self.name,
            enable_auto_commit=False, auto_offset_reset=self.offset_reset, max_poll_records=2000,
            fetch_max_wait_ms=50)
        await self.consumer.start()
        self.consumer.subscribe(self.topics, listener=_RestartFromCommitted(self))

    async def _stop(self) -> None:
        for client in (self.consumer, self.producer):
            if client is not None:
                try:
                    await client.stop()
                except Exception:  # a client that never connected may fail to stop; nothing to release then
                    pass
        self.consumer = self.producer = None

    async def _loop(self, stop: asyncio.Event) -> None:
        assert self.consumer is not None
        while not stop.is_set():
            batches = await self.consumer.getmany(timeout_ms=200, max_records=2000)
            done: dict[TopicPartition, int] = {}
            # Partitions hold disjoint keys, so they are applied side by side; each stays in order.
            await asyncio.gather(*(self.process_batch(records) for records in batches.values()))
            for tp, records in batches.items():
                done[tp] = records[-1].offset + 1
            if done:
                await self._commit(done)

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        try:
            await self.consumer.commit(offsets)  # type: ignore[union-attr]
        except KafkaError as exc:
            # Effects are committed already; a redelivery after a lost commit is dropped by the inbox.
            log.warning("offset commit failed; will commit later", extra={"error": repr(exc)})

    async def process_batch(self, records: list[ConsumerRecord]) -> None:
        """Apply a partition's records in one transaction; if any fails, fall back to one at a time so only the
        failing one is retried and, in the end, dead-lettered."""
        prepared = [item for record in records if (item := await self._prepare(record)) is not None]
        if not prepared:
            return
        try:
            async with self.sessions() as db, db.begin():
                first = await inbox.first_deliveries(
                    db, [(envelope.event_id, envelope.event_type) for _, envelope, _, _ in prepared], consumer=self.name)
                for _, envelope, event, handler in prepared:
                    if envelope.event_id in first:
                        first.discard(envelope.event_id)  # the same event twice in one batch is applied once
                        await handler(db, event)
        except Exception as exc:  # a failing handler rolls back the whole batch; isolate it below
            log.info("batch failed; applying its events one by one", extra={"error": repr(exc)[:300]})
            for item in prepared:
                await self._apply(*item)
            return
        metrics.EVENTS_CONSUMED.labels(self.name, "applied").inc(len(prepared))

    async def _prepare(self, record: ConsumerRecord) -> tuple[ConsumerRecord, Envelope, Event, Handler] | None:
        """Parse and route a record; returns None when it is skipped or dead-lettered."""
        try:
            envelope = Envelope.from_kafka(record.headers, record.key, record.value)
        except ValueError as exc:
            await self._dead_letter(record, f"malformed: {exc}", attempts=1)
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
            await self._dead_letter(record, f"invalid payload: {exc}", attempts=1)
            return None
        return record, envelope, event, handler

    async def _apply(self, record: ConsumerRecord, envelope: Envelope, event: Event, handler: Handler) -> None:
        attempts = self.settings.consumer_max_attempts
        for attempt in range(1, attempts + 1):
            try:
                async with self.sessions() as db, db.begin():
                    if await inbox.first_delivery(db, envelope.event_id, consumer=self.name,
                                                  event_type=envelope.event_type):
                        await handler(db, event)
                metrics.EVENTS_CONSUMED.labels(self.name, "applied").inc()
                return
            except Exception as exc:  # any failure of a handler is retried, then dead-lettered
                log.warning("handler failed", extra={"event_id": envelope.event_id, "attempt": attempt,
                                                     "error": repr(exc), "consumer": self.name})
                if attempt == attempts:
                    await self._dead_letter(record, f"{type(exc).__name__}: {exc}", attempts=attempt)
                    return
                await asyncio.sleep(self.settings.consumer_retry_backoff_seconds * attempt)

    async def _dead_letter(self, record: ConsumerRecord, error: str, *, attempts: int) -> None:
        headers = list(record.headers or ()) + [
            ("x-assay-error", error[:4000].encode()), ("x-assay-consumer", self.name.encode()),
            ("x-assay-attempts", str(attempts).encode()), ("x-assay-original-topic", record.topic.encode()),
            ("x-assay-original-partition", str(record.partition).encode()),
            ("x-assay-original-offset", str(record.offset).encode())]
        await self.producer.send_and_wait(self.dead_letter_topic, value=record.value, key=record.key,  # type: ignore
                                          headers=headers)
        metrics.EVENTS_DEAD_LETTERED.labels(self.name).inc()
        log.error("event dead-lettered", extra={"topic": record.topic, "offset": record.offset, "error": error[:500]})
